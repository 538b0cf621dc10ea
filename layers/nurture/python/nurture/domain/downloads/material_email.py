"""The material email: a download form's post (its `form_submit` activity) asks for it, the scorer's stream queues
it, and the sender sends it in the form's language, at most once per lead, form and hour."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nurture.config.models import FormDefinition
from nurture.config.templates import EmailTemplate
from nurture.domain.clock import parse_iso
from nurture.domain.downloads.requests import MaterialMessage
from nurture.domain.downloads.tokens import PATH, download_token
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.sending import AskedEmail, Composer, Mailer, SenderStore, deliver_asked

COUNTERS = "downloads"  # the step counters of this "sequence", one step per download form: sent, failed


def material_message_id(message: MaterialMessage) -> str:
    """One id per lead, form and clock hour: a redelivered message, a second post, or a script posting someone's
    address in a loop sends the email once an hour at most."""
    hour = parse_iso(message.asked_at).strftime("%Y-%m-%dT%H")
    return hashlib.sha256(f"{message.lead_id}|material|{message.form_id}|{hour}".encode()).hexdigest()[:24]


def deliver_material(message: MaterialMessage, form: FormDefinition | None, store: SenderStore, mailer: Mailer,
                     composer: Composer, templates: Mapping[str, EmailTemplate], template: str, link_days: int,
                     now: datetime, retention_days: int) -> str:
    """Send the material of `form` at most once; dropped when there is nothing to send (the form or the template
    left the config since the post), or when the lead waits for its double opt-in confirmation, the only email it
    gets (the thank-you page linked the material all the same). The outcomes of `deliver_asked`."""

    def plan(profile: dict[str, Any]) -> AskedEmail | str:
        email = templates.get(template)
        if form is None or email is None or not form.asset or pending(profile) is not None:
            return "dropped"
        token = download_token(composer.signer, message.lead_id, message.form_id, form.asset, now, link_days)
        values = {"download_url": f"{composer.api_base}{PATH}{token}", "material": form.title, "link_days": link_days}
        language = form.language

        def render(_message_id: str) -> bytes:
            return composer.compose_transactional(profile, email, values, now, language)

        return AskedEmail(message.form_id, template, render, {"material": message.form_id, "asset": form.asset})

    return deliver_asked(message.lead_id, material_message_id(message), COUNTERS, plan, store, mailer, now,
                         retention_days)
