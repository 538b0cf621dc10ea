"""Signed webhook deliveries, as Stripe and Slack sign theirs: an HMAC-SHA256 over the timestamp and the body, so
a receiver knows the post came from this Nurture and is not a replay of an old one."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from msgspec import Struct

SIGNATURE_HEADER = "Nurture-Signature"
DELIVERY_HEADER = "Nurture-Delivery"  # the same id on every retry of one alert: receivers drop repeats by it
EVENT_HEADER = "Nurture-Event"
TOLERANCE_SECONDS = 300  # how old a signature a receiver accepts


class WebhookTarget(Struct, frozen=True):
    """Where a webhook posts and the secret it signs with, as read from its SSM parameter."""

    url: str
    signing_secret: str


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signature_valid(secret: str, header: str | None, body: bytes, now: int,
                    tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: a v1 signature of this body by this secret, made within `tolerance` seconds."""
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts.get("t", [""])[0])
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


def signed_post(target: WebhookTarget, payload: dict[str, Any], delivery_id: str, event: str,
                now: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, {"Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: delivery_id,
                  EVENT_HEADER: event, SIGNATURE_HEADER: signature(target.signing_secret, now, body)}


def parameter_value(target: WebhookTarget) -> str:
    """What a webhook's SSM parameter holds; `target_from_parameter` reads it back."""
    return json.dumps({"url": target.url, "signing_secret": target.signing_secret})


def target_from_parameter(value: str) -> WebhookTarget | None:
    """The SSM parameter's JSON, `{"url": "https://…", "signing_secret": "…"}`; None if it is not that."""
    try:
        found = json.loads(value)
    except ValueError:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("url"), str) or \
            not isinstance(found.get("signing_secret"), str) or len(found["signing_secret"]) < 16:
        return None
    url = found["url"]
    local = url.startswith(("http://127.0.0.1:", "http://localhost:"))  # the local runtime's receiver
    if not (url.startswith("https://") or local):
        return None
    return WebhookTarget(url, found["signing_secret"])
