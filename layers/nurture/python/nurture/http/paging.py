"""What the sales API's and the console's lead routes share: a lead's reference, pages of a list (an opaque
cursor over an index's last key), and what a lead list shows of each lead."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

import msgspec

from nurture.domain.errors import FieldProblem, ValidationFailed
from nurture.http.router import Parameters

LeadId = Annotated[str, msgspec.Meta(max_length=128, description="The lead's id")]


class LeadRef(Parameters):
    lead_id: LeadId


PageSize = Annotated[int, msgspec.Meta(ge=1, le=200)]
Cursor = Annotated[str, msgspec.Meta(max_length=2048)]
# What a lead list shows of each lead.
LISTED = ("lead_id", "email", "name", "company", "rank", "stage", "total", "fit", "engagement", "owner",
          "handed_off_at")


def cursor_key(token: str | None) -> dict[str, Any] | None:
    """The index key a `next_cursor` stands for; `ValidationFailed` for anything this API did not give out."""
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(decoded, dict):
            raise ValueError("not an object")
        return decoded
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise bad_cursor() from error


def bad_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not one this API gave out.",
                            [FieldProblem("cursor", "invalid", "is not a cursor from a previous page")])


def next_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).rstrip(b"=").decode() if key else None
