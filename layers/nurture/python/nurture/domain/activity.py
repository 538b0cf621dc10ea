"""Activity events: what a lead or an anonymous visitor did. They feed scoring and reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct, field

from nurture.domain.clock import expiry, iso, new_id


class RequestContext(Struct, frozen=True):
    """Where a request came from. Kept on consent records; never logged."""

    received_at: datetime
    source_ip: str | None = None
    user_agent: str | None = None


class Activity(Struct, frozen=True):
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


# A beacon request's events are stored as one item of this type, holding them in `events` (issue 20): one write,
# one stream record and one scoring of the lot. Readers see the events through `expand`.
BATCH = "events"


def batch_of(activities: list[Activity]) -> Activity:
    """One activity holding several, under the first one's time (the batch sorts where its first event does)."""
    first = activities[0]
    return Activity(type=BATCH, occurred_at=first.occurred_at, event_id=first.event_id,
                    expires_at=max(a.expires_at for a in activities),
                    data={"events": [{k: v for k, v in a.attributes().items() if k != "expires_at"}
                                     for a in activities]})


def event_count(activity: Activity) -> int:
    """How many events an activity stands for: a visitor's quota counts events, not items."""
    return len(activity.data["events"]) if activity.type == BATCH else 1


def expand(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The activities a stored item holds, oldest first: the item itself, or each event of a batch with the
    batch's own attributes (keys, lead, expiry) beside its own type, time and id."""
    if item.get("type") != BATCH:
        return [item]
    shared = {k: v for k, v in item.items() if k not in ("type", "occurred_at", "event_id", "events")}
    return [{**shared, **event} for event in item.get("events") or []]
