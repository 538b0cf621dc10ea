"""The double opt-in confirmation email: one per request, sent at most once, recorded with its form's counter."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import partial
from typing import Any

from nurture.config.templates import EmailTemplate
from nurture.domain.clock import parse_iso
from nurture.domain.errors import StoreUnavailable, WriteConflict
from nurture.domain.preferences.double_opt_in import COUNTERS, ConfirmationMessage, pending
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sending import AlreadyRecorded, Attempt, Composer, Mailer, SenderStore, SendRecord, send_once
from nurture.domain.tokens import CONFIRM, TokenSigner


def confirmation_message_id(lead_id: str, requested_at: str) -> str:
    """One id per request: every delivery of its message agrees on it, so it is sent once."""
    return hashlib.sha256(f"{lead_id}|confirmation|{requested_at}".encode()).hexdigest()[:24]


def confirm_token(signer: TokenSigner, lead_id: str, request: dict[str, Any]) -> str:
    return signer.sign(CONFIRM, {"l": lead_id}, expires_at=parse_iso(str(request["remove_at"])))


def deliver_confirmation(message: ConfirmationMessage, store: SenderStore, mailer: Mailer, composer: Composer,
                         template: EmailTemplate, kept_days: int, now: datetime, retention_days: int) -> str:
    """Send one request's confirmation at most once, whatever the deliverability pause (a person is waiting for it,
    and it goes only to an address just typed, once an hour at most). Returns the outcome: sent, failed, gone,
    dropped (confirmed, or a newer request sends its own), skipped_suppressed, duplicate."""
    message_id = confirmation_message_id(message.lead_id, message.requested_at)
    attempt: Attempt | None = None
    for retry in range(MAX_ATTEMPTS):
        found = store.lead_for_sending(message.lead_id)
        if found is None:
            return "gone"
        profile, suppressed = found
        request = pending(profile)
        version = int((profile.get("scoring") or {}).get("version", 0))
        try:
            if attempt is None:
                if request is None or request["requested_at"] != message.requested_at:
                    return "dropped"
                if suppressed:  # a bounced, complaining or erased address gets nothing, this included
                    return "skipped_suppressed"
                url = f"{composer.api_base}/v1/confirm/{confirm_token(composer.signer, message.lead_id, request)}"
                attempt = send_once(message.lead_id, profile, message_id,
                                    partial(_compose, composer, profile, template, url, kept_days, now),
                                    {"lead": message.lead_id, "sequence": COUNTERS, "step": str(request["form_id"])},
                                    store, mailer, now, retention_days)
            form_id = str((request or {}).get("form_id") or "unknown")
            store.record_send(SendRecord(
                lead_id=message.lead_id, sequence=COUNTERS, step_id=form_id, outcome=attempt.outcome, state=None,
                reschedule=False, activity=attempt.activity(retention_days, {"confirmation": form_id}),
                message_id=message_id, error=attempt.error), version)
            return attempt.outcome
        except WriteConflict:
            backoff(retry)
        except AlreadyRecorded:
            return "duplicate"
    raise StoreUnavailable("the lead kept changing while its confirmation was recorded")


def _compose(composer: Composer, profile: dict[str, Any], template: EmailTemplate, url: str, kept_days: int,
             now: datetime, _message_id: str) -> bytes:
    return composer.compose_confirmation(profile, template, url, kept_days, now)
