"""Cancelling a seminar registration, and the waitlist moving up. The registration's page (its emails' link) has one
button (a mail scanner's GET cancels nothing); its post gives the place back in one transaction and records an
`event_cancelled` activity. The scorer's stream sees it and, for a freed seat, queues the session's promotion
(promotion.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.config.events import EventDefinition, EventsConfig
from nurture.domain.activity import Activity, new_activity
from nurture.domain.errors import InvalidToken, StoreUnavailable
from nurture.domain.events.links import registration_of
from nurture.domain.events.requests import CANCELLED
from nurture.domain.events.wording import when
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.tokens import TokenSigner

State = Literal["registered", "waitlisted", "cancelled", "started"]


class RegistrationView(Struct, frozen=True):
    language: str
    state: State
    title: str
    starts: str  # the session's date and times as the emails show them ("" once cancelled)


class CancellationStore(Protocol):
    def registration(self, event_id: str, lead_id: str) -> dict[str, Any] | None: ...

    def cancel_registration(self, event_id: str, registration: dict[str, Any], activity: Activity) -> bool:
        """The registration deleted, its seat or waitlist place given back and `activity` recorded under its lead,
        in one transaction, unless it changed meanwhile (False)."""
        ...


def _shown(event: EventDefinition, held: dict[str, Any] | None, language: str, now: datetime) -> RegistrationView:
    """The page of a registration as stored (None: there is none)."""
    session = event.session(str(held["session"])) if held else None
    title = event.title.of(language)
    if held is None or session is None:
        return RegistrationView(language, "cancelled", title, "")
    state: State = "started" if now >= event.starts_at(session) else \
        "waitlisted" if held.get("status") == "waitlisted" else "registered"
    return RegistrationView(language, state, title, when(event, session, language))


def _registration_of(token: str, signer: TokenSigner, events: EventsConfig) -> tuple[str, str, str, EventDefinition]:
    event_id, lead_id, language = registration_of(token, signer)
    event = events.events.get(event_id)
    if event is None:
        raise InvalidToken("The link names no event of the config.")
    return event_id, lead_id, language, event


def registration_view(token: str, signer: TokenSigner, store: CancellationStore, events: EventsConfig,
                      now: datetime) -> RegistrationView:
    """What the page shows: the registration and its button, or that it is cancelled or its session has begun."""
    event_id, lead_id, language, event = _registration_of(token, signer, events)
    return _shown(event, store.registration(event_id, lead_id), language, now)


def cancel(token: str, signer: TokenSigner, store: CancellationStore, events: EventsConfig, now: datetime,
           retention_days: int) -> RegistrationView:
    """The page's button: the registration is cancelled once (a second post shows it cancelled), unless its
    session has begun."""
    event_id, lead_id, language, event = _registration_of(token, signer, events)
    for attempt in range(MAX_ATTEMPTS):
        held = store.registration(event_id, lead_id)
        shown = _shown(event, held, language, now)
        if held is None or shown.state not in ("registered", "waitlisted"):
            return shown
        if store.cancel_registration(event_id, held, new_activity(CANCELLED, now, retention_days, {
                "lead_id": lead_id, "name": event_id, "session": str(held["session"]),
                "status": held.get("status")})):
            return RegistrationView(language, "cancelled", shown.title, "")
        backoff(attempt)  # promoted, or its session's count busy, meanwhile: read it again
    raise StoreUnavailable("the registration kept changing while it was cancelled")
