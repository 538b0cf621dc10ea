"""Key layout of the single table (see docs/data-model.md)."""

from __future__ import annotations

PROFILE = "PROFILE"


def lead_pk(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def email_claim_pk(email_key: str) -> str:
    return f"EMAIL#{email_key}"


EMAIL_CLAIM_SK = "EMAIL"


def visitor_pk(vid: str) -> str:
    return f"VISITOR#{vid}"


VISITOR_IDENTITY_SK = "IDENTITY"


def event_sk(occurred_at: str, event_id: str) -> str:
    return f"EVT#{occurred_at}#{event_id}"


EVENT_PREFIX = "EVT#"


def consent_sk(recorded_at: str, event_id: str) -> str:
    return f"CONSENT#{recorded_at}#{event_id}"


def dedupe_pk(dedupe_key: str) -> str:
    return f"DEDUPE#{dedupe_key}"


DEDUPE_SK = "DEDUPE"
