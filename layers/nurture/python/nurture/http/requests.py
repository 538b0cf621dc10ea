"""What the routes need from an API Gateway event, for HTTP API (2.0) and REST (1.0) payloads alike."""

from __future__ import annotations

import base64
import binascii
import ipaddress

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from nurture.domain.activity import RequestContext
from nurture.domain.bodies import MULTIPART, URLENCODED, media_type
from nurture.domain.clock import utc_now
from nurture.domain.errors import MalformedBody
from nurture.domain.text import drop_invisible
from nurture.settings import runtime_settings


def body_bytes(event: BaseProxyEvent) -> bytes:
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedBody("The body is marked base64 but is not.") from exc


def source_ip(event: BaseProxyEvent) -> str | None:
    """The client's address: behind CloudFront (CLIENT_IP_HEADER set) the one it forwards, else the connection's.
    A caller of the API's own endpoint can write that header itself: the address is recorded, never trusted."""
    forwarded_in = runtime_settings().client_ip_header
    if forwarded_in and (forwarded := _address_without_port(event.headers.get(forwarded_in))):
        return forwarded
    if isinstance(event, APIGatewayProxyEventV2):
        return event.request_context.http.source_ip
    if isinstance(event, APIGatewayProxyEvent):
        return event.request_context.identity.source_ip
    return None


def caller_arn(event: BaseProxyEvent) -> str | None:
    """The IAM principal that signed the request (an IAM-authorized route in AWS), for the record; None locally."""
    if isinstance(event, APIGatewayProxyEventV2):
        return event.request_context.authorizer.iam.user_arn or None
    if isinstance(event, APIGatewayProxyEvent):
        return event.request_context.identity.user_arn or None
    return None


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


def request_context(event: BaseProxyEvent) -> RequestContext:
    agent = event.headers.get("user-agent")
    return RequestContext(received_at=utc_now(), source_ip=source_ip(event),
                          user_agent=drop_invisible(agent)[:MAX_USER_AGENT] if agent else None)


def is_browser_post(event: BaseProxyEvent) -> bool:
    """A plain HTML form post: form-encoded and asking for a page rather than JSON."""
    kind, _ = media_type(event.headers.get("content-type"))
    accept = (event.headers.get("accept") or "").lower()
    return kind in (URLENCODED, MULTIPART) and ("text/html" in accept or "application/json" not in accept)
