"""The record of every change made in the console: who, what, on what, when. Each is written in the same
transaction as the change it records, so there is never a change without its record, nor a record of a change
that did not happen."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from msgspec import Struct, field

from nurture import keys
from nurture.domain.clock import iso

Action = Literal["sending.resume", "campaign.schedule", "campaign.cancel", "campaign.test", "lead.erase",
                 "lead.reassign", "config.push", "config.rollback"]


class Change(Struct, frozen=True):
    by: str  # the console user's email address (their Cognito subject when the token has none)
    action: Action
    target: str  # what it changed: a campaign's or a lead's id (never an address), a config version's number;
    # empty for the account's sending
    at: datetime
    detail: Mapping[str, str | int] = field(default_factory=dict)

    def item(self) -> dict[str, Any]:
        """The record, under its month (UTC); its sort key orders by time, a random tail keeps two at once apart."""
        at = iso(self.at)
        return {"PK": keys.audit_pk(at[:7]), "SK": f"{at}#{secrets.token_hex(4)}", "by": self.by,
                "action": self.action, "target": self.target, "at": at, **self.detail}
