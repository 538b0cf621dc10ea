"""Activity events: what a lead or an anonymous visitor did. They feed scoring and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nurture.domain.clock import expiry, iso, new_id


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from. Kept on consent records; never logged."""

    received_at: datetime
    source_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Activity:
    type: str
    occurred_at: str
    event_id: str
    expires_at: int
    data: dict[str, Any] = field(default_factory=dict)

    def attributes(self) -> dict[str, Any]:
        """Item attributes without the keys: the store decides whose history it lands in."""
        return {
            "type": self.type,
            "occurred_at": self.occurred_at,
            "event_id": self.event_id,
            "expires_at": self.expires_at,
            **self.data,
        }


def new_activity(kind: str, at: datetime, retention_days: int, data: dict[str, Any], offset: int = 0) -> Activity:
    """`offset` spreads events received in one request a microsecond apart, keeping their order."""
    moment = at + timedelta(microseconds=offset)
    return Activity(
        type=kind,
        occurred_at=iso(moment),
        event_id=new_id(),
        expires_at=expiry(moment, retention_days),
        data={key: value for key, value in data.items() if value not in (None, "", {}, [])},
    )
