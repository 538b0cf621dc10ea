"""The reply address each email carries in `Reply-To`: `r+<tag>@<reply domain>`, where the tag names the lead and
the email and is signed, so a reply finds both without trusting anything the sender wrote.

An address's local part may be 64 characters at most (RFC 5321), which a signed token of tracking links does not
fit: the tag is the lead id (16 bytes) and the email's message id (its first 8 bytes) with a 10-byte HMAC, in
lower-case base32 (mail systems may change the case of an address): 55 characters, 57 with `r+`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "r+"
LEAD_BYTES, MESSAGE_BYTES, MAC_BYTES = 16, 8, 10


class UnknownReplyAddress(ValueError):
    """Not an address this Nurture made: forged, mangled, or signed with another key."""


def reply_address(lead_id: str, message_id: str, secret: bytes, domain: str) -> str:
    body = _lead_bytes(lead_id) + _message_bytes(message_id)
    tag = base64.b32encode(body + _mac(secret, body)).decode("ascii").rstrip("=").lower()
    return f"{PREFIX}{tag}@{domain}"


def read_reply_address(address: str, secrets: list[bytes]) -> tuple[str, str]:
    """(lead id, the first 16 hex digits of the email's message id) from one of our reply addresses; `secrets`:
    every key that may have signed it, newest first."""
    local = address.strip().rpartition("@")[0].lower()
    if not local.startswith(PREFIX):
        raise UnknownReplyAddress("not a reply address")
    tag = local.removeprefix(PREFIX).upper()
    try:
        raw = base64.b32decode(tag + "=" * (-len(tag) % 8))
    except (binascii.Error, ValueError) as error:
        raise UnknownReplyAddress("not base32") from error
    if len(raw) != LEAD_BYTES + MESSAGE_BYTES + MAC_BYTES:
        raise UnknownReplyAddress("wrong length")
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not any(hmac.compare_digest(mac, _mac(secret, body)) for secret in secrets):
        raise UnknownReplyAddress("bad signature")
    return body[:LEAD_BYTES].hex(), body[LEAD_BYTES:].hex()


def _lead_bytes(lead_id: str) -> bytes:
    raw = bytes.fromhex(lead_id)
    if len(raw) != LEAD_BYTES:
        raise ValueError("a lead id is 32 hex digits")
    return raw


def _message_bytes(message_id: str) -> bytes:
    """The first 8 bytes of a hex message id, or of a hash of any other (enough to tell one lead's emails apart)."""
    try:
        raw = bytes.fromhex(message_id)
    except ValueError:
        raw = hashlib.sha256(message_id.encode()).digest()
    return raw[:MESSAGE_BYTES].ljust(MESSAGE_BYTES, b"\0")


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, b"reply:" + body, hashlib.sha256).digest()[:MAC_BYTES]
