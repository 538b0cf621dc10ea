"""Giving a lead to another salesperson or queue by hand (POST /v1/leads/{id}/owner), recorded with who and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.config.sales import SalesConfig
from nurture.domain.activity import Activity, new_activity
from nurture.domain.console.audit import Change
from nurture.domain.errors import FieldProblem, LeadNotFound, StoreUnavailable, ValidationFailed, WriteConflict
from nurture.domain.leads import LeadRecord, counts_as_open
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sales.deadlines import verdict_due
from nurture.domain.scoring import ScoreState

OwnerKind = Literal["person", "queue"]


class Reassignment(Struct, frozen=True):
    owner: str
    by: str  # who decided, as the caller names them (a salesperson id, a manager's name)
    reason: str
    caller: str | None = None  # the IAM principal that signed the request, in AWS
    # An escalation's: (handoff id, owner) the lead must still wait on; answered meanwhile, nothing changes.
    unless_answered: tuple[str, str] | None = None
    recorded: Change | None = None  # a console user's change: recorded with who and when, in the same write


class OwnerChange(Struct, frozen=True):
    """What the store writes in one transaction: the profile's owner, the activity that records it, and the open
    handoff it moves from one salesperson's count to another's."""

    lead_id: str
    owner: str
    kind: OwnerKind
    stage: str
    activity: Activity
    state: ScoreState  # as read: written back with the next version, so a scorer that read before must read again
    released: str | None = None  # the salesperson whose open count drops
    taken: str | None = None  # the salesperson whose open count rises
    handoff_id: str | None = None  # the open handoff, if the lead is waiting for a verdict
    verdict_due: str | None = None  # then: when the new owner's verdict is due (None: no deadline any more)
    recorded: Change | None = None  # the console's record of the change, written in the same transaction


class OwnerStore(Protocol):
    def lead_record(self, lead_id: str, activity_limit: int = 50, ledger_limit: int = 1000) -> LeadRecord | None: ...

    def save_owner(self, change: OwnerChange) -> None: ...


def owner_kind(owner: str, sales: SalesConfig) -> OwnerKind:
    if owner in sales.people:
        return "person"
    if owner in sales.queues:
        return "queue"
    raise ValidationFailed(f"There is no salesperson or queue '{owner}'.",
                           [FieldProblem("owner", "unknown", "is not a salesperson or queue of config/sales.yaml")])


def reassign(lead_id: str, change: Reassignment, store: OwnerStore, sales: SalesConfig, now: datetime,
             retention_days: int) -> dict[str, Any]:
    """The lead's new owner. An open handoff (handed off or accepted) moves with it, from the old salesperson's
    count of open handoffs to the new one's; the company's owner stays (it is the account's, not the lead's)."""
    kind = owner_kind(change.owner, sales)
    for attempt in range(MAX_ATTEMPTS):
        record = store.lead_record(lead_id, activity_limit=0, ledger_limit=0)
        if record is None:
            raise LeadNotFound(f"There is no lead '{lead_id}'.")
        profile = record.profile
        previous = profile.get("owner")
        answer = {"lead_id": lead_id, "owner": {"id": change.owner, "kind": kind},
                  "previous": {"id": previous, "kind": profile.get("owner_kind")} if previous else None}
        waiting_on = (profile.get("handoff_id"), previous) if profile.get("stage") == "handed_off" else None
        if previous == change.owner or (change.unless_answered is not None and waiting_on != change.unless_answered):
            return {**answer, "changed": False}  # a retried POST, or an escalation the owner's verdict overtook
        stage = str(profile.get("stage", "nurturing"))
        activity = new_activity("owner_changed", now, retention_days, {
            "lead_id": lead_id, "from": previous, "to": change.owner, "kind": kind, "by": change.by,
            "reason": change.reason, "caller": change.caller})
        released = str(previous) if previous and counts_as_open(profile.get("owner_kind"), stage) else None
        # A lead still waiting for a verdict gives the new owner their own full time to answer.
        waiting = stage == "handed_off" and profile.get("handoff_id")
        try:
            store.save_owner(OwnerChange(
                lead_id, change.owner, kind, stage, activity, ScoreState.from_item(profile.get("scoring")), released,
                change.owner if counts_as_open(kind, stage) else None, str(profile["handoff_id"]) if waiting else None,
                verdict_due(change.owner, sales, now, sales.feedback.remind_after_hours) if waiting else None,
                change.recorded))
        except WriteConflict:
            backoff(attempt)  # the scorer or sales changed the lead meanwhile: decide again on what they wrote
            continue
        return {**answer, "changed": True}
    raise StoreUnavailable("the lead kept changing while its owner was changed")
