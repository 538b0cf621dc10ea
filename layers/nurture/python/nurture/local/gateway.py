"""An HTTP server that does what API Gateway's HTTP API does in front of the real handlers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

from nurture.local.events import http_api_event, match_route
from nurture.local.functions import invoke
from nurture.local.log import log as logger

MAX_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit


@dataclass(frozen=True)
class Page:
    """A page of the local runtime's own (not an API route): the index, the outbox, the webhook receiver."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Pages = Callable[[str], Page | None]
# A POST or PUT to a local stand-in (the webhook receiver, kintone): method, path, headers, body.
Receivers = Callable[[str, str, dict[str, str], bytes], Page | None]
# What the JWT authorizer of a signed-in route checks: the Authorization header's token -> its claims, or None.
SignedIn = Callable[[str | None], dict[str, Any] | None]


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of new connections (a page's assets, or the
    # load test's 50 clients) beyond it was refused with connection resets.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], pages: Pages | None = None, receivers: Receivers | None = None,
                 signed_in: SignedIn | None = None):
        super().__init__(address, GatewayHandler)
        self.pages: Pages = pages or (lambda path: None)
        self.receivers: Receivers = receivers or (lambda method, path, headers, body: None)
        self.signed_in: SignedIn = signed_in or (lambda authorization: None)


class GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("gateway request", extra={"line": format % args})

    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(400, {"Content-Type": "application/json"}, b'{"message":"Bad Request"}')
            return
        if length > MAX_BODY:
            self._send(413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}')
            return
        body = self.rfile.read(length) if length else None
        headers = {name.lower(): value for name, value in self.headers.items()}
        page = self.server.pages(url.path) if self.command in ("GET", "HEAD") else \
            self.server.receivers(self.command, url.path, headers, body or b"") if self.command in ("POST", "PUT") \
            else None
        if page is not None:
            self._send(page.status, {"Content-Type": page.content_type, **page.headers}, page.body)
            return
        matched = match_route(self.command, url.path)
        if matched is None:
            self._send(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
            return
        route, parameters = matched
        claims = self.server.signed_in(headers.get("authorization")) if route.signed_in else None
        if route.signed_in and claims is None:  # the authorizer's own answer, before any function runs
            self._send(401, {"Content-Type": "application/json", "WWW-Authenticate": "Bearer"},
                       b'{"message":"Unauthorized"}')
            return
        event = http_api_event(self.command, url.path, query=url.query, headers=headers, body=body,
                               source_ip=self.client_address[0], route=route, path_parameters=parameters,
                               jwt_claims=claims)
        try:
            response = invoke(route.function, event)
        except Exception:
            logger.exception("handler raised", extra={"function": route.function})
            self._send(500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')
            return
        self._send_lambda_response(response)

    # Every method goes through the same routing, as API Gateway's does.
    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = do_PATCH = _handle

    def _send_lambda_response(self, response: Any) -> None:
        if not isinstance(response, dict) or "statusCode" not in response:
            # HTTP API treats a bare value as a 200 JSON body.
            self._send(200, {"Content-Type": "application/json"}, json.dumps(response).encode())
            return
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(v) for v in values)
        self._send(int(response["statusCode"]), headers, raw, response.get("cookies") or [])

    def _send(self, status: int, headers: dict[str, str], body: bytes, cookies: list[str] | None = None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, header_value(value))
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def header_value(value: str) -> str:
    """What HTTP can carry: characters beyond Latin-1 (a Japanese URL in a Location) and line breaks are
    percent-encoded, where writing them as they are would drop the connection or split the header."""
    return "".join(ch if ch not in "\r\n" and ord(ch) < 256 else quote(ch, safe="") for ch in value)


def index_page(urls: dict[str, str]) -> Page:
    rows = "".join(f'<li>{escape(name)}: <a href="{escape(url)}">{escape(url)}</a></li>' for name, url in urls.items())
    html = f"<!doctype html><html><head><meta charset='utf-8'><title>Nurture (local)</title></head>" \
           f"<body><h1>Nurture, running locally</h1><ul>{rows}</ul></body></html>"
    return Page(200, "text/html; charset=utf-8", html.encode())
