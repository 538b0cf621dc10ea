"""Time and identifiers, in one place so every item agrees on their format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC timestamps: they sort as strings, which the EVT# sort keys rely on."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    """The inverse of `iso`."""
    return datetime.fromisoformat(value)


def parse_iso_or_none(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def expiry(moment: datetime, days: int) -> int:
    return epoch_seconds(moment + timedelta(days=days))


def new_id() -> str:
    return uuid.uuid4().hex
