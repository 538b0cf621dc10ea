"""Real-shaped Lambda events and contexts, built the way API Gateway and Lambda build them."""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from nurture.topology import ROUTES, ApiRoute

_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/javascript")


def match_route(method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
    for route in ROUTES:
        if route.method != method.upper():
            continue
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path)) + "$"
        found = re.match(pattern, path)
        if found:
            return route, found.groupdict()
    return None


def http_api_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
    route: ApiRoute | None = None,
    path_parameters: dict[str, str] | None = None,
    account_id: str = "123456789012",
    jwt_claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event, as the service sends it to a Lambda integration; with
    `jwt_claims`, as its JWT authorizer passes on a token it accepted."""
    headers = {name.lower(): value for name, value in (headers or {}).items()}
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    now = datetime.now(UTC)
    content_type = headers.get("content-type", "")
    encoded = body is not None and not (content_type.startswith(_TEXT_TYPES) and _is_utf8(body))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key if route else "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key if route else "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        # As API Gateway gives them: percent-decoded, a repeated name's values joined by commas.
        params: dict[str, str] = {}
        for pair in query.split("&"):
            name, _, value = (unquote(part) for part in pair.partition("="))
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = path_parameters
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": authorizer_claims(jwt_claims), "scopes": None}}
    if body is not None:
        event["body"] = base64.b64encode(body).decode("ascii") if encoded else body.decode("utf-8")
    return event


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 10
    region: str = "ap-northeast-1"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The claims as the HTTP API's JWT authorizer hands them to the function: every value a string, a list as
    "[a b]"."""
    return {name: f"[{' '.join(map(str, value))}]" if isinstance(value, list)
            else str(value).lower() if isinstance(value, bool) else str(value) for name, value in claims.items()}
