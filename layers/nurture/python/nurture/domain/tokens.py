"""Signed tokens (open pixel, click, unsubscribe, double opt-in confirmation, download): no forged hits, no open
redirect.

A token is `<payload>.<signature>`, both base64url without padding; the signature is
HMAC-SHA256 over the payload part. The payload is compact JSON whose `k` names the token's
purpose, so a token signed for one purpose is never accepted for another, and whose `v` names
the key that signed it, so the key can be rotated: new tokens are signed with the newest key and
older keys go on verifying what they signed. Open and click tokens expire (`e`, a year by
default); unsubscribe tokens never do, because an opt-out link must work for as long as the email
exists; a confirmation token expires when its unconfirmed lead is removed, a download token after the days the
config gives it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from nurture.domain.clock import epoch_seconds, utc_now
from nurture.domain.errors import InvalidToken
from nurture.domain.replies.address import read_reply_address, reply_address

OPEN = "o"
CLICK = "c"
UNSUBSCRIBE = "u"
CONFIRM = "a"  # a double opt-in confirmation ("agree")
DOWNLOAD = "d"  # a download form's material, for a few days
REGISTRATION = "r"  # a seminar registration's page (to cancel it), until its session starts
EXPIRING = frozenset({OPEN, CLICK})
MAX_TOKEN_LENGTH = 4096
DEFAULT_LIFETIME = timedelta(days=365)
FIRST_KEY_ID = "k0"  # tokens from before keys had ids name none: they were signed with the first key


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SigningKey(Struct, frozen=True):
    key_id: str
    secret: bytes
    created_at: datetime | None = None
    retired_at: datetime | None = None  # when a newer key took over signing

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise ValueError("the signing key must be at least 32 bytes")


class ExpiredToken(InvalidToken):
    """A genuine token past its expiry: nothing is recorded. `claims` says where it led, or whom it names."""

    def __init__(self, claims: dict[str, Any]):
        super().__init__("The link has expired.")
        self.claims = claims


class UnknownSigningKey(InvalidToken):
    """Signed with a key this keyring does not hold: forged, or newer than the keyring read."""

    def __init__(self, key_id: str):
        super().__init__("The link was signed with an unknown key.")
        self.key_id = key_id


class TokenSigner:
    """Signs with the newest key of a keyring and verifies with any of them."""

    def __init__(self, keys: bytes | Sequence[SigningKey], lifetime: timedelta = DEFAULT_LIFETIME):
        ring = [SigningKey(FIRST_KEY_ID, keys)] if isinstance(keys, bytes) else list(keys)
        if not ring:
            raise ValueError("a keyring needs at least one key")
        self._current = ring[0]
        self._keys = {key.key_id: key for key in ring}
        self.lifetime = lifetime

    def sign(self, kind: str, claims: dict[str, Any], issued_at: datetime | None = None,
             expires_at: datetime | None = None) -> str:
        """`expires_at`: when a token of a kind that does not expire by lifetime stops being accepted."""
        body: dict[str, Any] = {"k": kind, "v": self._current.key_id, **claims}
        if kind in EXPIRING:
            body["e"] = epoch_seconds((issued_at or utc_now()) + self.lifetime)
        elif expires_at is not None:
            body["e"] = epoch_seconds(expires_at)
        payload = _b64encode(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{_signature(self._current, payload)}"

    def reply_address(self, lead_id: str, message_id: str, domain: str) -> str:
        """The Reply-To of an email: a reply to it names the lead and the email (domain.replies.address)."""
        return reply_address(lead_id, message_id, self._current.secret, domain)

    def read_reply_address(self, address: str) -> tuple[str, str]:
        """(lead id, the email's message id's first 16 hex digits) of a reply address any key of the ring
        signed; UnknownReplyAddress otherwise."""
        return read_reply_address(address, [key.secret for key in self._keys.values()])

    def verify(self, token: str, kind: str, now: datetime | None = None) -> dict[str, Any]:
        """The claims of a genuine, unexpired token of this kind; InvalidToken for anything else."""
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or token.count(".") != 1:
            raise InvalidToken("The link is malformed.")
        payload, signature = token.split(".")
        claims = _claims(payload)  # read before the signature is checked only to find the key
        key_id = str(claims.get("v", FIRST_KEY_ID))
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownSigningKey(key_id)
        if not hmac.compare_digest(signature, _signature(key, payload)):
            raise InvalidToken("The link's signature does not match.")
        if claims.get("k") != kind:
            raise InvalidToken("The link is not meant for this use.")
        if self._expired(claims, key, kind, now or utc_now()):
            raise ExpiredToken(claims)
        return claims

    def newer_than_known(self, key_id: str) -> bool:
        """A key id after the newest this keyring holds (`k<n>`): a rotation this keyring has not seen yet."""
        known = [int(k[1:]) for k in self._keys if k[1:].isdigit()]
        return key_id[:1] == "k" and key_id[1:].isdigit() and int(key_id[1:]) > max(known, default=-1)

    def _expired(self, claims: dict[str, Any], key: SigningKey, kind: str, now: datetime) -> bool:
        # A retired key signs nothing new: whatever its tokens claim, none outlives its retirement by more
        # than a token's lifetime (a leaked retired key cannot mint links that last).
        if kind in EXPIRING and key.retired_at is not None and now > key.retired_at + self.lifetime:
            return True
        expires = claims.get("e")
        return isinstance(expires, int) and not isinstance(expires, bool) and epoch_seconds(now) > expires


def _claims(payload: str) -> dict[str, Any]:
    try:
        claims = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("The link is malformed.") from exc
    if not isinstance(claims, dict):
        raise InvalidToken("The link is malformed.")
    return claims


def _signature(key: SigningKey, payload: str) -> str:
    return _b64encode(hmac.new(key.secret, payload.encode("ascii", "replace"), hashlib.sha256).digest())


def rotate(keys: Sequence[SigningKey], new_secret: bytes, now: datetime) -> list[SigningKey]:
    """A keyring whose new key signs from now on. Retired keys stay: they verify the open and click
    tokens they signed until those expire, and their unsubscribe tokens for ever."""
    numbers = [int(key.key_id[1:]) for key in keys if key.key_id[1:].isdigit()]
    newest = SigningKey(f"k{max(numbers, default=0) + 1}", new_secret, created_at=now)
    return [newest, *(key if key.retired_at else replace(key, retired_at=now) for key in keys)]


def click_token(signer: TokenSigner, lead_id: str, url: str, message_id: str, link: str | None = None,
                sent_at: int | None = None, counter: str | None = None) -> str:
    """`sent_at` (epoch seconds) lets the click tell a scanner that follows it at once from a person;
    `counter` names the A/B variant whose people's clicks it counts."""
    claims: dict[str, Any] = {"l": lead_id, "u": url, "m": message_id}
    if link:
        claims["t"] = link
    if counter:
        claims["c"] = counter
    if sent_at is not None:
        claims["s"] = sent_at
    return signer.sign(CLICK, claims, _issued(sent_at))


def open_token(signer: TokenSigner, lead_id: str, message_id: str, sent_at: int | None = None) -> str:
    claims: dict[str, Any] = {"l": lead_id, "m": message_id}
    if sent_at is not None:
        claims["s"] = sent_at
    return signer.sign(OPEN, claims, _issued(sent_at))


def _issued(sent_at: int | None) -> datetime | None:
    return datetime.fromtimestamp(sent_at, UTC) if sent_at is not None else None


def lead_of(claims: dict[str, Any]) -> str:
    """The lead a verified token is about."""
    lead_id = claims.get("l")
    if not isinstance(lead_id, str) or not lead_id:
        raise InvalidToken("The link names no lead.")
    return lead_id
