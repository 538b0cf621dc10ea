"""How a call task is shown: by the sales API, `nurture tasks list` and a lead's view."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nurture.domain.clock import parse_iso
from nurture.domain.sales.routing import callable_phone


def is_current(task: Mapping[str, Any], profile: Mapping[str, Any]) -> bool:
    """Whether the task is of the lead's current nurture cycle: a recycle or a verdict since leaves an open task of
    an earlier cycle behind, which is no longer shown as open nor takes an outcome."""
    return int(task.get("cycle", 0)) == int((profile.get("scoring") or {}).get("cycle", 0))


def task_answer(item: dict[str, Any]) -> dict[str, Any]:
    calls = item.get("calls") or []
    return {"task_id": item["task_id"], "lead_id": item["lead_id"], "status": item["status"],
            "attempts": int(item.get("attempts", 0)), "outcome": calls[-1]["outcome"] if calls else None,
            "due_at": item.get("due_at") if item["status"] == "open" else None}


def task_view(item: dict[str, Any], now: datetime, profile: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A task as the sales API and `nurture tasks list` show it: with, in a list, who to call."""
    due = item.get("due_at")
    view = {
        **task_answer(item),
        "kind": item.get("kind", "call"), "owner": item["owner"], "reason": item.get("reason"),
        "rule": item.get("rule"), "created_at": item.get("created_at"), "due_at": due,
        "overdue": item["status"] == "open" and due is not None and parse_iso(str(due)) < now,
        "attempts_allowed": int(item.get("attempts_allowed", 1)), "calls": item.get("calls") or [],
    }
    if profile is not None:
        view["lead"] = {**{name: profile.get(name) for name in ("name", "company", "title", "department", "email",
                                                                 "rank", "stage")},
                        "phone": profile.get("phone") if callable_phone(profile) else None}
    return view


def listed_tasks(found: list[tuple[dict[str, Any], dict[str, Any] | None]], now: datetime) -> list[dict[str, Any]]:
    """A page of an owner's tasks as listed: an erased lead's are left out, and so is an open task of an earlier
    cycle (its lead moved on)."""
    return [task_view(task, now, profile) for task, profile in found
            if profile is not None and (task.get("status") != "open" or is_current(task, profile))]
