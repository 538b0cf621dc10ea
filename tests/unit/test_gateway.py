"""The local gateway answers whatever headers a handler returns, as API Gateway would, without dropping the
connection."""

import http.client
import threading

from nurture.local import gateway


def test_a_header_beyond_latin_1_is_percent_encoded_and_a_line_break_never_splits_it(monkeypatch):
    location = "https://example.co.jp/x?a=1様\r\nSet-Cookie: stolen=1"
    monkeypatch.setattr(gateway, "invoke", lambda function, event: {"statusCode": 302, "headers": {
        "Location": location}, "body": ""})
    server = gateway.Gateway(("127.0.0.1", 0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        connection.request("GET", "/v1/t/c/anything")
        response = connection.getresponse()
        assert response.status == 302
        assert response.getheader("Location") == "https://example.co.jp/x?a=1%E6%A7%98%0D%0ASet-Cookie: stolen=1"
        assert response.getheader("Set-Cookie") is None
    finally:
        server.shutdown()
        server.server_close()
