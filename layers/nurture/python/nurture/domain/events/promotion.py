"""The waitlist moving up, the sender's side: a seat given back (by a cancellation, whose `event_cancelled` activity
the scorer's stream sees, or found free by a dispatcher tick: seats.py) goes to the first on the session's
waitlist, who gets its confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from nurture.config.events import EventsConfig
from nurture.config.templates import EmailTemplate
from nurture.domain.clock import expiry, iso
from nurture.domain.events.registration import EventSenderStore, deliver_registration
from nurture.domain.events.reminders import next_reminder
from nurture.domain.events.requests import PromotionMessage, RegistrationMessage
from nurture.domain.sending import Composer, Mailer

OFFER_KEPT_DAYS = 14  # longer than a message lives in the send queue and its dead-letter queue


class PromotionStore(EventSenderStore, Protocol):
    def promote_next(self, event_id: str, session_id: str, capacity: int, reminder: tuple[int, str] | None,
                     offer_id: str, kept_until: int) -> str | None:
        """The session's first waitlisted lead given a place (with its first `reminder`), while the session has
        one free, once per `offer_id` (its marker kept until `kept_until`): the lead the offer promoted (now or
        before), or None when nobody waits or the session is full."""
        ...


def deliver_promotion(message: PromotionMessage, events: EventsConfig, store: PromotionStore, mailer: Mailer,
                      composer: Composer, templates: Mapping[str, EmailTemplate], now: datetime,
                      retention_days: int) -> str:
    """A seat was given back: the first on the waitlist takes it and gets its confirmation (once, as any
    registration's). Dropped: the event or session left the config, or the session has begun."""
    event = events.events.get(message.event_id)
    session = event.session(message.session_id) if event is not None else None
    if event is None or session is None or now >= event.starts_at(session):
        return "dropped"
    promoted = store.promote_next(message.event_id, session.id, session.capacity, next_reminder(event, session, now),
                                  message.offer_id, expiry(now, OFFER_KEPT_DAYS))
    if promoted is None:
        return "nobody_waiting"
    return deliver_registration(RegistrationMessage.of(lead_id=promoted, event_id=message.event_id,
                                                    session_id=session.id, asked_at=iso(now)),
                                events, store, mailer, composer, templates, now, retention_days)
