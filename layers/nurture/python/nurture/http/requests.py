"""What the routes read of an API Gateway proxy event, for HTTP API (2.0) and REST (1.0) payloads alike.

A request is read once into `ApiRequest` rather than through Powertools' event data classes: importing
one of them runs their package's `__init__`, which imports every event class Powertools knows (12-17 ms of
an API function's cold start for the few fields read here; decision 107).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from typing import Any

from msgspec import Struct

from nurture.domain.activity import RequestContext
from nurture.domain.bodies import MULTIPART, URLENCODED, media_type
from nurture.domain.clock import utc_now
from nurture.domain.errors import MalformedBody
from nurture.domain.text import drop_invisible
from nurture.settings import runtime_settings


class ApiRequest(Struct, frozen=True):
    method: str  # upper case
    path: str  # without the stage, as the routes are written
    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, str]
    body: str
    base64_encoded: bool
    connection_ip: str | None
    caller_arn: str | None  # the IAM principal that signed it (an IAM-authorized route); None locally
    jwt_claims: Mapping[str, Any] | None  # the HTTP API's JWT authorizer's; None on REST (1.0) payloads
    http_api: bool  # payload 2.0, answered with 2.0's fields (cookies)


def read_request(event: Mapping[str, Any]) -> ApiRequest | None:
    """The event as a request of its payload format; None for anything but an API Gateway proxy event."""
    if event.get("version") == "2.0":
        context = event.get("requestContext") or {}
        stage, path = context.get("stage"), event.get("rawPath") or "/"
        if stage and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
            path = path[len(stage) + 1:] or "/"
        authorizer = context.get("authorizer") or {}
        return ApiRequest((context.get("http") or {}).get("method", "").upper(), path,
                          _lower_case(event.get("headers")), event.get("queryStringParameters") or {},
                          event.get("body") or "", bool(event.get("isBase64Encoded")),
                          (context.get("http") or {}).get("sourceIp"),
                          (authorizer.get("iam") or {}).get("userArn") or None,
                          (authorizer.get("jwt") or {}).get("claims") or {}, http_api=True)
    if "httpMethod" in event:  # REST API proxy, or HTTP API with payload format 1.0
        identity = (event.get("requestContext") or {}).get("identity") or {}
        return ApiRequest(str(event["httpMethod"]).upper(), event.get("path") or "/",
                          _lower_case(event.get("headers")), event.get("queryStringParameters") or {},
                          event.get("body") or "", bool(event.get("isBase64Encoded")), identity.get("sourceIp"),
                          identity.get("userArn") or None, None, http_api=False)
    return None


def _lower_case(headers: Mapping[str, str] | None) -> dict[str, str]:
    """HTTP API sends header names in lower case already; REST keeps the client's."""
    return {name.lower(): value for name, value in (headers or {}).items()}


def body_bytes(request: ApiRequest) -> bytes:
    if not request.base64_encoded:
        return request.body.encode("utf-8")
    try:
        return base64.b64decode(request.body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedBody("The body is marked base64 but is not.") from exc


def source_ip(request: ApiRequest) -> str | None:
    """The client's address: behind CloudFront (CLIENT_IP_HEADER set) the one it forwards, else the connection's.
    A caller of the API's own endpoint can write that header itself: the address is recorded, never trusted."""
    forwarded_in = runtime_settings().client_ip_header
    if forwarded_in and (forwarded := _address_without_port(request.headers.get(forwarded_in.lower()))):
        return forwarded
    return request.connection_ip


def _address_without_port(value: str | None) -> str | None:
    """198.51.100.7:46532, 2001:db8::7:46532 (CloudFront-Viewer-Address's IPv6) or [2001:db8::7]:46532 -> the
    address; None for anything else."""
    if not value:
        return None
    value = value.strip()
    host = value[1:].partition("]")[0] if value.startswith("[") else value.rpartition(":")[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


MAX_USER_AGENT = 512  # stored on hits: a real one is far shorter


def request_context(request: ApiRequest) -> RequestContext:
    agent = request.headers.get("user-agent")
    return RequestContext(received_at=utc_now(), source_ip=source_ip(request),
                          user_agent=drop_invisible(agent)[:MAX_USER_AGENT] if agent else None)


def is_browser_post(request: ApiRequest) -> bool:
    """A plain HTML form post: form-encoded and asking for a page rather than JSON."""
    kind, _ = media_type(request.headers.get("content-type"))
    accept = (request.headers.get("accept") or "").lower()
    return kind in (URLENCODED, MULTIPART) and ("text/html" in accept or "application/json" not in accept)
