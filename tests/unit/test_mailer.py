"""SES v2 as the sender calls it: the configuration set and tags go along; errors become the domain's."""

import boto3
import pytest
from botocore.stub import Stubber

from nurture.adapters.mailer import SesMailer
from nurture.domain.errors import SendDeferred, SendRejected
from nurture.domain.pacing import SendPacer

TAGS = {"lead": "l1", "sequence": "warm_nurture", "step": "know_how", "message": "m1"}


def stubbed() -> tuple[SesMailer, Stubber]:
    client = boto3.client("sesv2", region_name="ap-northeast-1")
    return SesMailer("news@example.co.jp", "nurture-set", client), Stubber(client)


def test_the_email_carries_the_configuration_set_and_the_tags_ses_events_map_back_with():
    mailer, stub = stubbed()
    stub.add_response("send_email", {"MessageId": "ses-1"}, {
        "FromEmailAddress": "news@example.co.jp", "Destination": {"ToAddresses": ["a@example.jp"]},
        "Content": {"Raw": {"Data": b"raw"}}, "ConfigurationSetName": "nurture-set",
        "EmailTags": [{"Name": name, "Value": value} for name, value in TAGS.items()]})
    with stub:
        assert mailer.send(b"raw", "a@example.jp", TAGS) == "ses-1"


@pytest.mark.parametrize(("code", "status", "error", "maybe_sent"), [
    ("TooManyRequestsException", 429, SendDeferred, False),  # throttled: try again later
    ("SendingPausedException", 400, SendDeferred, False),  # the account's problem, not the lead's
    ("AccessDeniedException", 403, SendDeferred, False),
    ("NotFoundException", 404, SendDeferred, False),  # e.g. the configuration set is missing
    ("MailFromDomainNotVerifiedException", 400, SendDeferred, False),
    ("InternalFailure", 500, SendDeferred, True),  # SES may have sent it: never send again
    ("MessageRejected", 400, SendRejected, None),  # this email to this address: for good
    ("BadRequestException", 400, SendRejected, None),
])
def test_only_a_refusal_of_the_email_itself_is_permanent(code, status, error, maybe_sent):
    mailer, stub = stubbed()
    stub.add_client_error("send_email", service_error_code=code, http_status_code=status)
    with stub, pytest.raises(error) as raised:
        mailer.send(b"raw", "a@example.jp", TAGS)
    if maybe_sent is not None:
        assert raised.value.maybe_sent is maybe_sent


def test_a_send_the_server_fails_is_attempted_once_and_may_have_gone_out(monkeypatch):
    """botocore retries a 5xx by itself; for SendEmail that could deliver the email twice."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from nurture.adapters.aws import reset_clients

    attempts: list[str] = []

    class FailingSes(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            attempts.append(self.path)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = b'{"message": "internal failure"}'
            self.send_response(500)
            self.send_header("x-amzn-ErrorType", "InternalFailure")
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingSes)
    Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    reset_clients()
    try:
        mailer = SesMailer("news@example.co.jp", "nurture-set")  # its own client, as in Lambda
        with pytest.raises(SendDeferred) as raised:
            mailer.send(b"raw", "a@example.jp", TAGS)
    finally:
        server.shutdown()
        reset_clients()
    assert raised.value.maybe_sent is True and len(attempts) == 1


def test_each_send_waits_for_the_pacer_first():
    client = boto3.client("sesv2", region_name="ap-northeast-1")
    waits: list[str] = []

    class CountingPacer(SendPacer):
        def wait(self) -> None:
            waits.append("wait")

    mailer, stub = SesMailer("news@example.co.jp", "", client, pacer=CountingPacer(1)), Stubber(client)
    for message_id in ("ses-1", "ses-2"):
        stub.add_response("send_email", {"MessageId": message_id})
    with stub:
        mailer.send(b"raw", "a@example.jp", TAGS)
        mailer.send(b"raw", "b@example.jp", TAGS)
    assert waits == ["wait", "wait"]
