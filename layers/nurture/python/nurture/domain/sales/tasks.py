"""Call tasks (テレアポ): a salesperson's call to a lead worth a call, and what came of it.

config/sales.yaml's task rules give a lead a task while the scorer writes it: one per lead and nurture cycle, with
the id `<lead id>-<cycle>`, an owner chosen as a handoff's is, and a due time in the owner's business hours. The
outcome of each call is an activity the scorer scores (`call_outcome`); a meeting set makes the lead hot at once
(the built-in pattern `call_meeting_set`), not interested recycles it, a wrong number is never called again, and
no answer keeps the task open until its rule's attempts are used."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.config.sales import SalesConfig, TaskRule
from nurture.config.scoring import ScoringRules
from nurture.domain.activity import Activity, new_activity
from nurture.domain.clock import iso
from nurture.domain.errors import (
    FieldProblem,
    StoreUnavailable,
    TaskClosed,
    TaskNotFound,
    ValidationFailed,
    WriteConflict,
)
from nurture.domain.leads import VerdictEffect, verdict_effect
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sales.deadlines import verdict_due
from nurture.domain.sales.routing import Assignment, RoutableLead, callable_phone, matches
from nurture.domain.sales.task_views import is_current, task_answer
from nurture.domain.scoring import CALL_OUTCOME, HANDOFF_STAGES, ScoreState

CallOutcome = Literal["reached", "no_answer", "wrong_number", "meeting_set", "not_interested"]
TaskStatus = Literal["open", "done"]

TASK_ID = r"^[A-Za-z0-9_]{1,128}-[0-9]{1,6}$"


def task_id(lead_id: str, cycle: int) -> str:
    return f"{lead_id}-{cycle}"


def task_key(task: str) -> tuple[str, int]:
    """The lead and cycle a task id names."""
    lead_id, _, cycle = task.rpartition("-")
    if not lead_id or not cycle.isdigit():
        raise TaskNotFound(f"There is no task '{task}'.")
    return lead_id, int(cycle)


class CallTask(Struct, frozen=True):
    """A task the scorer writes with the lead's score, the owner's round-robin turn and the account's owner."""

    lead_id: str
    cycle: int
    rule: TaskRule
    assignment: Assignment
    created_at: str
    due_at: str | None  # None for a queue: nobody owes the call until someone takes the lead

    @property
    def task_id(self) -> str:
        return task_id(self.lead_id, self.cycle)

    def marker(self) -> dict[str, Any]:
        """What the profile keeps of its task: enough to hold a handoff and to make no second task this cycle."""
        return {"task_id": self.task_id, "cycle": self.cycle, "status": "open",
                "instead_of_handoff": self.rule.instead_of_handoff}

    def attributes(self) -> dict[str, Any]:
        """The task item without its keys."""
        owner = self.assignment
        return {"task_id": self.task_id, "lead_id": self.lead_id, "kind": "call", "cycle": self.cycle,
                "rule": self.rule.id, "reason": self.rule.reason, "owner": owner.owner, "owner_kind": owner.kind,
                "team": owner.team, "strategy": owner.strategy, "created_at": self.created_at, "due_at": self.due_at,
                "due_after_hours": self.rule.due_after_hours, "status": "open", "attempts": 0,
                "attempts_allowed": self.rule.attempts, "instead_of_handoff": self.rule.instead_of_handoff,
                "calls": []}


def task_rule(lead: RoutableLead, handing_off: bool, cycle: int, sales: SalesConfig) -> TaskRule | None:
    """The rule that gives this lead a call task now, if any. Only a lead being nurtured gets one, once per cycle;
    a lead turning hot only from a rule that calls instead of handing off (otherwise sales has it already)."""
    profile = lead.profile
    if str(profile.get("stage", "nurturing")) not in HANDOFF_STAGES or pending(dict(profile)) is not None:
        return None
    if (profile.get("call_task") or {}).get("cycle") == cycle:
        return None  # this cycle's task is made (open or done)
    return next((rule for rule in sales.tasks
                 if (rule.instead_of_handoff or not handing_off) and matches(rule.when, lead)), None)


def holds_handoff(profile: Mapping[str, Any], cycle: int) -> bool:
    """Whether the lead's handoff waits for its open call task (one whose rule calls instead of handing off)."""
    task = profile.get("call_task") or {}
    return task.get("status") == "open" and task.get("cycle") == cycle and bool(task.get("instead_of_handoff"))


def call_task(lead_id: str, rule: TaskRule, assignment: Assignment, cycle: int, sales: SalesConfig,
              now: datetime) -> CallTask:
    return CallTask(lead_id, cycle, rule, assignment, iso(now),
                    verdict_due(assignment.owner, sales, now, rule.due_after_hours))


# --- what came of a call ---------------------------------------------------------------------------------------


class CallReport(Struct, frozen=True):
    outcome: CallOutcome
    by: str  # who called, as they name themselves
    note: str | None = None
    attempt: int | None = None  # the call it reports (1: the first); a retried POST that names it changes nothing
    caller: str | None = None  # the IAM principal that signed the request, in AWS


class TaskChange(Struct, frozen=True):
    """What the store writes in one transaction: the task, the profile's marker of it (and, for a wrong number,
    the number not to call; for not interested, the recycle), and the activity the scorer scores."""

    lead_id: str
    cycle: int
    owner: str
    status: TaskStatus
    attempts: int  # as read: the task is written only if no other report counted a call meanwhile
    calls: list[dict[str, Any]]  # every call so far, this one last
    due_at: str | None
    activity: Activity
    marker: dict[str, Any]
    state: ScoreState  # as read: written back with the next version, so a scorer that read before reads again
    phone_wrong: str | None = None
    recycle: VerdictEffect | None = None
    owned: str | None = None  # the lead's owner, whose list a recycle moves it in


class TaskStore(Protocol):
    def profile(self, lead_id: str, projection: str | None = None) -> dict[str, Any] | None: ...

    def task(self, lead_id: str, cycle: int) -> dict[str, Any] | None: ...

    def save_call_outcome(self, change: TaskChange) -> None: ...


def record_call_outcome(task: str, report: CallReport, store: TaskStore, sales: SalesConfig, rules: ScoringRules,
                        now: datetime, retention_days: int) -> dict[str, Any]:
    lead_id, cycle = task_key(task)
    for attempt in range(MAX_ATTEMPTS):
        profile = store.profile(lead_id)
        item = store.task(lead_id, cycle) if profile is not None else None
        if profile is None or item is None:
            raise TaskNotFound(f"There is no task '{task}'.")
        made = int(item.get("attempts", 0))
        if _repeats(item, report):
            return {**task_answer(item), "changed": False}
        if item.get("status") != "open":
            raise TaskClosed(f"The task was closed: {item['calls'][-1]['outcome']}.")
        if not is_current(item, profile):
            raise TaskClosed("The task belongs to an earlier nurture cycle of the lead: it was recycled or sales "
                             "gave a verdict since.")
        if report.outcome == "not_interested" and profile.get("stage", "nurturing") not in HANDOFF_STAGES:
            # Only a nurtured lead goes back to nurturing on a call: a handed-off or won one has sales' verdict.
            raise TaskClosed(f"The lead is {profile['stage']} since the task was made: give the verdict on its "
                             "handoff instead.")
        if report.attempt is not None and report.attempt != made + 1:
            raise ValidationFailed(f"The next call of this task is number {made + 1}.", [
                FieldProblem("attempt", "out_of_order", f"is {made + 1} for the next call")])
        change = _change(profile, item, report, sales, rules, now, retention_days)
        try:
            store.save_call_outcome(change)
        except WriteConflict:
            backoff(attempt)  # the scorer or another report changed the lead meanwhile: decide again
            continue
        return {**task_answer({**item, "status": change.status, "attempts": made + 1, "due_at": change.due_at,
                           "calls": change.calls}), "changed": True}
    raise StoreUnavailable("the lead kept changing while the call was recorded")


def _repeats(item: dict[str, Any], report: CallReport) -> bool:
    """A retried report: the call it names (or, naming none, the last one) already has this outcome."""
    calls = item.get("calls") or []
    if report.attempt is not None:
        return any(c["attempt"] == report.attempt and c["outcome"] == report.outcome for c in calls)
    return item.get("status") == "done" and bool(calls) and calls[-1]["outcome"] == report.outcome


def _change(profile: dict[str, Any], item: dict[str, Any], report: CallReport, sales: SalesConfig,
            rules: ScoringRules, now: datetime, retention_days: int) -> TaskChange:
    lead_id, cycle, owner = str(item["lead_id"]), int(item["cycle"]), str(item["owner"])
    number = int(item.get("attempts", 0)) + 1
    retry = report.outcome == "no_answer" and number < int(item.get("attempts_allowed", 1))
    status: TaskStatus = "open" if retry else "done"
    activity = new_activity(CALL_OUTCOME, now, retention_days, {
        "lead_id": lead_id, "task_id": item["task_id"], "outcome": report.outcome, "attempt": number,
        "by": report.by, "note": report.note, "caller": report.caller})
    marker = {**(profile.get("call_task") or {}), "status": status}
    return TaskChange(
        lead_id, cycle, owner, status, number - 1,
        [*(item.get("calls") or []), {"attempt": number, "outcome": report.outcome, "at": iso(now), "by": report.by}],
        verdict_due(owner, sales, now, float(item.get("due_after_hours", 8))) if retry else None,
        activity, marker, ScoreState.from_item(profile.get("scoring")),
        phone_wrong=str(profile.get("phone")) if report.outcome == "wrong_number" and callable_phone(profile) else None,
        recycle=verdict_effect(profile, "recycle", rules, now) if report.outcome == "not_interested" else None,
        owned=profile.get("owner"))
