"""What the routes need from an API Gateway event, for HTTP API (2.0) and REST (1.0) payloads alike."""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from nurture.domain.activity import RequestContext
from nurture.domain.bodies import MULTIPART, URLENCODED, media_type
from nurture.domain.clock import utc_now
from nurture.domain.errors import MalformedBody


def header(event: BaseProxyEvent, name: str) -> str | None:
    wanted = name.lower()
    for key, value in (event.headers or {}).items():
        if key.lower() == wanted:
            return value
    return None


def body_bytes(event: BaseProxyEvent) -> bytes:
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedBody("The body is marked base64 but is not.") from exc


def source_ip(event: BaseProxyEvent) -> str | None:
    if isinstance(event, APIGatewayProxyEventV2):
        return event.request_context.http.source_ip
    if isinstance(event, APIGatewayProxyEvent):
        return event.request_context.identity.source_ip
    return None


def request_context(event: BaseProxyEvent) -> RequestContext:
    return RequestContext(received_at=utc_now(), source_ip=source_ip(event), user_agent=header(event, "user-agent"))


def is_browser_post(event: BaseProxyEvent) -> bool:
    """A plain HTML form post: form-encoded and asking for a page rather than JSON."""
    kind, _ = media_type(header(event, "content-type"))
    accept = (header(event, "accept") or "").lower()
    return kind in (URLENCODED, MULTIPART) and ("text/html" in accept or "application/json" not in accept)
