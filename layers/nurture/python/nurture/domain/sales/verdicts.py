"""Chasing a verdict: a handoff whose owner has not answered by the deadline reminds them, then escalates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct, field

from nurture.config.sales import SalesConfig
from nurture.config.scoring import ScoringRules
from nurture.domain.clock import iso
from nurture.domain.errors import NurtureError
from nurture.domain.handoff import handoff_message
from nurture.domain.sales.alerts import AlertJob, alert_jobs
from nurture.domain.sales.deadlines import DueVerdict, escalation_team, verdict_due
from nurture.domain.sales.owners import OwnerStore, Reassignment, reassign


class VerdictStore(OwnerStore, Protocol):
    def verdicts_due(self, until: str, limit: int) -> list[DueVerdict]: ...

    def handoff_item(self, lead_id: str, handoff_id: str) -> dict[str, Any] | None: ...

    def advance_verdict(self, due: DueVerdict, next_due: str | None) -> bool: ...


class AlertJobs(Protocol):
    def send_jobs(self, jobs: Sequence[AlertJob]) -> None: ...


class Chased(Struct):
    reminded: int = 0
    escalated: int = 0
    answered: int = 0  # a verdict, a new owner or an erasure came first: nothing was owed any more
    failed: list[str] = field(default_factory=list)  # leads to chase again next tick


def chase_verdicts(store: VerdictStore, alerts: AlertJobs, sales: SalesConfig, rules: ScoringRules, api_base: str,
                   now: datetime, retention_days: int, limit: int = 50) -> Chased:
    """The dispatcher's tick: each passed deadline reminds the owner, then (after `escalate_after_hours` more of
    their business hours) tells the team's lead, or gives the lead to them. Alert ids are fixed per handoff and
    step, so two ticks racing send each alert once (the notifier's markers), and only one moves the deadline."""
    chased = Chased()
    for due in store.verdicts_due(iso(now), limit):
        try:
            _chase(due, store, alerts, sales, rules, api_base, now, retention_days, chased)
        except (NurtureError, ValueError):  # SQS or the table refused, the calendar has no hour: next tick
            chased.failed.append(due.lead_id)
    return chased


def _chase(due: DueVerdict, store: VerdictStore, alerts: AlertJobs, sales: SalesConfig, rules: ScoringRules,
           api_base: str, now: datetime, retention_days: int, chased: Chased) -> None:
    settings = sales.feedback
    record = store.lead_record(due.lead_id, activity_limit=20)
    profile = record.profile if record else {}
    handoff = store.handoff_item(due.lead_id, due.handoff_id) if record else None
    if record is None or handoff is None or not still_owed(profile, due.handoff_id, due.owner):
        store.advance_verdict(due, None)
        chased.answered += 1
        return
    # The lead as its owner now holds it: after a reassignment, not the owner routing first gave it.
    message = handoff_message({**handoff, "owner": current_owner(handoff, profile)}, record, rules, now, api_base,
                              sales)
    occasion = due.due_sk.partition("#")[0]  # a second reminder (the lead came back to them) is its own alert
    if due.step == "remind":
        alerts.send_jobs(alert_jobs(message, sales, "reminder", due.owner, occasion))
        later = verdict_due(due.owner, sales, now, settings.escalate_after_hours) \
            if settings.escalate_after_hours else None
        store.advance_verdict(due, later)
        chased.reminded += 1
        return
    team = escalation_team(due.owner, sales, due.team)
    team_lead = sales.teams[team].lead if team else None
    if team_lead and team_lead != due.owner:
        alerts.send_jobs(alert_jobs(message, sales, "escalation", team_lead, occasion))
        if settings.escalation == "reassign":
            hours = f"{settings.remind_after_hours + settings.escalate_after_hours:g}"
            reassign(due.lead_id, Reassignment(team_lead, "nurture", f"no verdict in {hours} business hours",
                                               unless_answered=(due.handoff_id, due.owner)),
                     store, sales, now, retention_days)
    store.advance_verdict(due, None)
    chased.escalated += 1


def still_owed(profile: dict[str, Any], handoff_id: str, owner: str) -> bool:
    """The lead still waits, on that handoff, for that owner's verdict."""
    return (profile.get("stage") == "handed_off" and profile.get("handoff_id") == handoff_id
            and profile.get("owner") == owner)


def current_owner(handoff: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    routed = dict(handoff.get("owner") or {})
    if routed.get("id") == profile.get("owner"):
        return routed
    return {"id": profile.get("owner"), "kind": profile.get("owner_kind"), "strategy": "fixed",
            "reason": "担当変更 (reassigned)"}
