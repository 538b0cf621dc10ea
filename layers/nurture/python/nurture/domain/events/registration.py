"""Registration for a seminar session, and its email: the lead gets a place once per event, atomically within the
session's capacity or else on its waitlist, and then the confirmation with the session's calendar file, or the
waitlist notice, each at most once, in the lead's language."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from nurture.config.events import EventDefinition, EventsConfig, Session
from nurture.config.templates import EmailTemplate
from nurture.domain.errors import LeadGone
from nurture.domain.events.links import PATH, registration_token
from nurture.domain.events.reminders import next_reminder
from nurture.domain.events.requests import RegistrationMessage, Status
from nurture.domain.events.wording import event_values
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.sending import AskedEmail, Attachment, Composer, Mailer, SenderStore, deliver_asked

COUNTERS = "events"  # the step counters of this "sequence", one step per event: the emails sent


class RegistrationStore(Protocol):
    def register(self, event_id: str, session_id: str, lead_id: str, capacity: int, at: str,
                 reminder: tuple[int, str] | None) -> tuple[Status, str, str]:
        """A place in the session (with its first `reminder`, hours before and time, on the due index), or on its
        waitlist when it is full or people wait, unless the lead holds one in the event already: the status, the
        session and the time (`registered_at`) of the lead's registration."""
        ...

    def registration(self, event_id: str, lead_id: str) -> dict[str, Any] | None: ...


class EventSenderStore(RegistrationStore, SenderStore, Protocol):
    pass


def registration_message_id(event_id: str, lead_id: str, status: Status, registered_at: str) -> str:
    """One confirmation and one waitlist notice per registration, whatever redeliveries and second posts; a new
    registration after a cancellation is another."""
    return hashlib.sha256(f"{lead_id}|event|{event_id}|{status}|{registered_at}".encode()).hexdigest()[:24]


def cancel_url(composer: Composer, event_id: str, event: EventDefinition, session: Session, lead_id: str,
               language: str) -> str:
    """The registration's own page, where the person cancels it (every email about the registration links it)."""
    token = registration_token(composer.signer, event_id, event, session, lead_id, language)
    return f"{composer.api_base}{PATH}{token}"


def deliver_registration(message: RegistrationMessage, events: EventsConfig, store: EventSenderStore, mailer: Mailer,
                         composer: Composer, templates: Mapping[str, EmailTemplate], now: datetime,
                         retention_days: int) -> str:
    """Register the lead, then send the email of its registration once. Dropped, with no seat: the event or its
    session left the config since the post, the session has begun, or the lead waits for its double opt-in
    confirmation (the only email it gets); a suppressed address gets no seat either. Dropped after registering:
    the template left the config."""
    event = events.events.get(message.event_id)
    asked = event.session(message.session_id) if event is not None else None
    if event is None or asked is None:
        return "dropped"
    found = store.lead_for_sending(message.lead_id)
    if found is None:
        return "gone"  # erased, or removed unconfirmed: no seat
    profile, suppressed = found
    # No seat for a session under way, nor for a lead still to confirm its address (it would get no confirmation).
    if pending(profile) is not None or now >= event.starts_at(asked):
        return "dropped"
    if suppressed:
        return "skipped_suppressed"
    try:
        status, held, registered_at = store.register(message.event_id, asked.id, message.lead_id, asked.capacity,
                                      message.asked_at, next_reminder(event, asked, now))
    except LeadGone:
        return "gone"  # erased since it was read
    session = event.session(held) or asked  # an earlier registration keeps its own session
    name = event.emails.registered if status == "registered" else event.emails.waitlisted
    template = templates.get(name)

    def plan(profile: dict[str, Any]) -> AskedEmail | str:
        # icalendar is loaded by the sender's first confirmation, not by every cold start of it.
        from nurture.domain.events.calendar_file import calendar_file

        if template is None or pending(profile) is not None:
            return "dropped"
        language = str(profile.get("language") or "ja")
        values = {**event_values(event, session, language),
                  "cancel_url": cancel_url(composer, message.event_id, event, session, message.lead_id, language)}
        attachments = [Attachment("seminar.ics", "text/calendar", calendar_file(
            message.event_id, event, session, message.lead_id, language, now))] if status == "registered" else []

        def render(_message_id: str) -> bytes:
            return composer.compose_transactional(profile, template, values, now, attachments=attachments)

        return AskedEmail(message.event_id, name, render, {"event": message.event_id, "session": session.id,
                                                           "registration": status})

    return deliver_asked(message.lead_id,
                         registration_message_id(message.event_id, message.lead_id, status, registered_at),
                         COUNTERS, plan, store, mailer, now, retention_days)
