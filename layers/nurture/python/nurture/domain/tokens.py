"""Signed tracking tokens (open pixel, click, unsubscribe): no forged hits, no open redirect.

A token is `<payload>.<signature>`, both base64url without padding; the signature is
HMAC-SHA256 over the payload part. The payload is compact JSON whose `k` names the token's
purpose, so a token signed for one purpose is never accepted for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from nurture.domain.errors import InvalidToken

OPEN = "o"
CLICK = "c"
UNSUBSCRIBE = "u"
MAX_TOKEN_LENGTH = 4096


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, key: bytes):
        if len(key) < 32:
            raise ValueError("the signing key must be at least 32 bytes")
        self._key = key

    def sign(self, kind: str, claims: dict[str, Any]) -> str:
        payload = _b64encode(json.dumps({"k": kind, **claims}, separators=(",", ":")).encode())
        return f"{payload}.{self._signature(payload)}"

    def verify(self, token: str, kind: str) -> dict[str, Any]:
        """The claims of a genuine token of this kind; InvalidToken for anything else."""
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or token.count(".") != 1:
            raise InvalidToken("The link is malformed.")
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._signature(payload)):
            raise InvalidToken("The link's signature does not match.")
        try:
            claims = json.loads(_b64decode(payload))
        except (binascii.Error, ValueError) as exc:
            raise InvalidToken("The link is malformed.") from exc
        if not isinstance(claims, dict) or claims.get("k") != kind:
            raise InvalidToken("The link is not meant for this use.")
        return claims

    def _signature(self, payload: str) -> str:
        return _b64encode(hmac.new(self._key, payload.encode("ascii", "replace"), hashlib.sha256).digest())


def click_token(signer: TokenSigner, lead_id: str, url: str, message_id: str, link: str | None = None,
                sent_at: int | None = None) -> str:
    """`sent_at` (epoch seconds) lets the click tell a scanner that follows it at once from a person."""
    claims: dict[str, Any] = {"l": lead_id, "u": url, "m": message_id}
    if link:
        claims["t"] = link
    if sent_at is not None:
        claims["s"] = sent_at
    return signer.sign(CLICK, claims)


def open_token(signer: TokenSigner, lead_id: str, message_id: str, sent_at: int | None = None) -> str:
    claims: dict[str, Any] = {"l": lead_id, "m": message_id}
    if sent_at is not None:
        claims["s"] = sent_at
    return signer.sign(OPEN, claims)


def safe_redirect_url(url: object) -> str:
    """Only absolute http(s) URLs are ever redirected to, even from a genuine token."""
    if not isinstance(url, str):
        raise InvalidToken("The link has no destination.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidToken("The link's destination is not a web address.")
    return url
