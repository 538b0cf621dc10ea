"""The email after a session, the sender's side: once per lead and event, the thank-you to an attendee (with a signed,
tracked link to the event's material) or the recording to a no-show, in the lead's language."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nurture.config.events import EventsConfig
from nurture.config.templates import EmailTemplate
from nurture.domain.downloads.tokens import PATH, download_token
from nurture.domain.events.registration import COUNTERS
from nurture.domain.events.requests import ATTENDED, FollowUpMessage
from nurture.domain.events.wording import event_values
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.sending import AskedEmail, Composer, Mailer, SenderStore, deliver_asked


def follow_up_message_id(message: FollowUpMessage) -> str:
    """One per lead, event and attendance: a second import, or a second session's, sends nothing more."""
    return hashlib.sha256(
        f"{message.lead_id}|event|{message.event_id}|{message.attendance}".encode()).hexdigest()[:24]


def deliver_follow_up(message: FollowUpMessage, events: EventsConfig, store: SenderStore, mailer: Mailer,
                      composer: Composer, templates: Mapping[str, EmailTemplate], link_days: int, now: datetime,
                      retention_days: int) -> str:
    """Send the event's email for the lead's attendance once. Dropped: the event, its session or the template left
    the config since the import, or the lead waits for its double opt-in confirmation."""
    event = events.events.get(message.event_id)
    session = event.session(message.session_id) if event is not None else None
    name = event.follow_up.template(message.attendance) if event is not None else None
    template = templates.get(name) if name is not None else None
    if event is None or session is None or name is None or template is None:
        return "dropped"
    material = event.follow_up.material if message.attendance == ATTENDED else None

    def plan(profile: dict[str, Any]) -> AskedEmail | str:
        if pending(profile) is not None:
            return "dropped"
        values = event_values(event, session, str(profile.get("language") or "ja"))
        if material is not None:  # the registration form's material, as a download form's would be
            token = download_token(composer.signer, message.lead_id, event.form, material, now, link_days)
            values |= {"download_url": f"{composer.api_base}{PATH}{token}", "link_days": link_days}

        def render(_message_id: str) -> bytes:
            return composer.compose_transactional(profile, template, values, now)

        return AskedEmail(message.event_id, name, render, {"event": message.event_id, "session": session.id,
                                                           "follow_up": message.attendance})

    return deliver_asked(message.lead_id, follow_up_message_id(message), COUNTERS, plan, store, mailer, now,
                         retention_days)
