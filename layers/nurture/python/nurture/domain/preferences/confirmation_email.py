"""The double opt-in confirmation email: one per request, sent at most once, recorded with its form's counter."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nurture.config.templates import EmailTemplate
from nurture.domain.clock import parse_iso
from nurture.domain.preferences.double_opt_in import COUNTERS, ConfirmationMessage, pending
from nurture.domain.sending import AskedEmail, Composer, Mailer, SenderStore, deliver_asked
from nurture.domain.tokens import CONFIRM, TokenSigner


def confirmation_message_id(lead_id: str, requested_at: str) -> str:
    """One id per request: every delivery of its message agrees on it, so it is sent once."""
    return hashlib.sha256(f"{lead_id}|confirmation|{requested_at}".encode()).hexdigest()[:24]


def confirm_token(signer: TokenSigner, lead_id: str, request: dict[str, Any]) -> str:
    return signer.sign(CONFIRM, {"l": lead_id}, expires_at=parse_iso(str(request["remove_at"])))


def deliver_confirmation(message: ConfirmationMessage, store: SenderStore, mailer: Mailer, composer: Composer,
                         templates: Mapping[str, EmailTemplate], template: str, kept_days: int, now: datetime,
                         retention_days: int) -> str:
    """Send one request's confirmation at most once; dropped when the lead confirmed, or a newer request sends its
    own (the outcomes of `deliver_asked`)."""

    def plan(profile: dict[str, Any]) -> AskedEmail | str:
        request, email = pending(profile), templates.get(template)
        if request is None or request["requested_at"] != message.requested_at or email is None:
            return "dropped"
        url = f"{composer.api_base}/v1/confirm/{confirm_token(composer.signer, message.lead_id, request)}"
        values = {"confirm_url": url, "kept_days": kept_days}
        form_id = str(request["form_id"])
        return AskedEmail(form_id, template, lambda _message_id: composer.compose_transactional(
            profile, email, values, now), {"confirmation": form_id})

    return deliver_asked(message.lead_id, confirmation_message_id(message.lead_id, message.requested_at), COUNTERS,
                         plan, store, mailer, now, retention_days)
