"""Free seminar seats, the dispatcher's side: each tick offers every seat free in an upcoming session with people
waiting to its waitlist (an erased lead's seat, a capacity raised in events.yaml, a promotion message lost); a
cancellation's seat is offered at once by the scorer's stream. The sender gives each (promotion.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from nurture.config.events import EventsConfig
from nurture.domain.clock import new_id
from nurture.domain.events.requests import FREED_BY_DISPATCHER, PromotionMessage

MAX_OFFERED = 100  # seats a tick offers; the rest the next tick, a minute later


class SeatCounts(Protocol):
    def session_counts(self, sessions: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, int]]:
        """Each (event, session)'s registered and waitlisted counts, as stored (no item: none)."""
        ...


class PromotionQueue(Protocol):
    def send_batch(self, messages: list[PromotionMessage]) -> None: ...


def offer_free_seats(store: SeatCounts, queue: PromotionQueue, events: EventsConfig, now: datetime) -> int:
    """Queue a promotion for every free seat of an upcoming session with people waiting: one read of every upcoming
    session's counts (a BatchGetItem), nothing queued when none has both. A seat offered twice is given once."""
    upcoming = [(event_id, session) for event_id, event in sorted(events.events.items())
                for session in event.sessions if now < event.starts_at(session)]
    if not upcoming:
        return 0
    counts = store.session_counts([(event_id, session.id) for event_id, session in upcoming])
    offers: list[PromotionMessage] = []
    for event_id, session in upcoming:
        found = counts.get((event_id, session.id), {})
        free = min(session.capacity - found.get("registered", 0), found.get("waitlisted", 0),
                   MAX_OFFERED - len(offers))
        offers += [PromotionMessage.of(lead_id=FREED_BY_DISPATCHER, event_id=event_id, session_id=session.id,
                                    offer_id=new_id()) for _ in range(max(free, 0))]
    if offers:
        queue.send_batch(offers)
    return len(offers)
