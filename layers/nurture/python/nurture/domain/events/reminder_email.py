"""A seminar reminder's email, the sender's side: once per registration and reminder, to a lead still registered."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nurture.config.events import EventsConfig
from nurture.config.templates import EmailTemplate
from nurture.domain.events.registration import COUNTERS, EventSenderStore, cancel_url
from nurture.domain.events.requests import ReminderMessage
from nurture.domain.events.wording import event_values
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.sending import AskedEmail, Composer, Mailer, deliver_asked


def reminder_message_id(message: ReminderMessage) -> str:
    return hashlib.sha256(
        f"{message.lead_id}|event|{message.event_id}|reminder|{message.hours_before}".encode()).hexdigest()[:24]


def deliver_reminder(message: ReminderMessage, events: EventsConfig, store: EventSenderStore, mailer: Mailer,
                     composer: Composer, templates: Mapping[str, EmailTemplate], now: datetime,
                     retention_days: int) -> str:
    """Send one reminder once, to a lead still registered (a waitlisted or cancelled one gets none), before its
    session starts. Dropped: the lead is no longer registered, the session has begun (a reminder late in the queue),
    or the event, its session, this reminder or the template left the config."""
    event = events.events.get(message.event_id)
    registration = store.registration(message.event_id, message.lead_id) if event is not None else None
    if event is None or registration is None or registration.get("status") != "registered":
        return "dropped"
    session = event.session(str(registration["session"]))
    name = event.emails.reminder
    template = templates.get(name)
    hours = message.hours_before
    if session is None or template is None or hours not in event.reminders_hours_before or \
            now >= event.starts_at(session):
        return "dropped"

    def plan(profile: dict[str, Any]) -> AskedEmail | str:
        if pending(profile) is not None:
            return "dropped"
        language = str(profile.get("language") or "ja")
        values = {**event_values(event, session, language), "hours_before": hours,
                  "cancel_url": cancel_url(composer, message.event_id, event, session, message.lead_id, language)}

        def render(_message_id: str) -> bytes:
            return composer.compose_transactional(profile, template, values, now)

        return AskedEmail(message.event_id, name, render, {"event": message.event_id, "session": session.id,
                                                           "reminder": hours})

    return deliver_asked(message.lead_id, reminder_message_id(message), COUNTERS, plan, store, mailer, now,
                         retention_days)
