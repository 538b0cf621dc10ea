"""The report's sales section: how each owner and team answered the hot leads handed to them in a period.

Pure: the period's handoffs (the HANDOFF# items, each with the owner routing gave it) and the leads' sales
verdicts in, numbers out. A handoff's verdicts are those given after it and before the lead's next handoff."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from statistics import median
from typing import Any

from msgspec import Struct, field

from nurture.config.sales import SalesConfig
from nurture.domain.clock import iso, parse_iso
from nurture.domain.sales.deadlines import escalation_team, verdict_due

ACCEPTED = frozenset({"accepted", "won", "lost"})  # lost: sales took it on, the deal went elsewhere


class _Tally(Struct):
    handoffs: int = 0
    answered: int = 0
    accepted: int = 0
    won: int = 0
    lost: int = 0
    overdue: int = 0
    hours_to_verdict: list[float] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        for name in ("handoffs", "answered", "accepted", "won", "lost", "overdue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.hours_to_verdict += other.hours_to_verdict

    def row(self) -> dict[str, Any]:
        return {"handoffs": self.handoffs, "with_verdict": self.answered, "accepted": self.accepted,
                "acceptance_rate": round(self.accepted / self.answered, 4) if self.answered else None,
                "median_hours_to_verdict": round(median(self.hours_to_verdict), 1) if self.hours_to_verdict else None,
                "overdue": self.overdue, "won": self.won, "lost": self.lost}


def sales_performance(handoffs: Iterable[dict[str, Any]], verdicts: dict[str, list[dict[str, Any]]],
                      in_period: Any, sales: SalesConfig, now: datetime) -> dict[str, Any]:
    """`handoffs`: HANDOFF# items; `verdicts`: each lead's `sales_feedback` activity; `in_period(moment)`: whether
    a moment is in the report's period. Overdue: no verdict yet, past the owner's deadline."""
    by_lead: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for handoff in handoffs:
        by_lead[str(handoff["lead_id"])].append(handoff)
    owners: dict[str, _Tally] = defaultdict(_Tally)
    teams: dict[str, _Tally] = defaultdict(_Tally)
    reasons: Counter[tuple[str, str]] = Counter()
    for lead_id, lead_handoffs in by_lead.items():
        lead_handoffs.sort(key=lambda h: str(h["created_at"]))
        given = sorted(verdicts.get(lead_id, []), key=lambda v: str(v["occurred_at"]))
        for n, handoff in enumerate(lead_handoffs):
            at = parse_iso(str(handoff["created_at"]))
            owner = (handoff.get("owner") or {}).get("id")
            if not in_period(at) or not owner:
                continue
            until = str(lead_handoffs[n + 1]["created_at"]) if n + 1 < len(lead_handoffs) else "~"
            answers = [v for v in given if str(handoff["created_at"]) <= str(v["occurred_at"]) < until]
            tally = _Tally(handoffs=1)
            if answers:
                tally.answered = 1
                outcomes = {str(v.get("outcome")) for v in answers}
                tally.accepted, tally.won, tally.lost = (int(bool(outcomes & ACCEPTED)), int("won" in outcomes),
                                                         int("lost" in outcomes))
                tally.hours_to_verdict.append((parse_iso(str(answers[0]["occurred_at"])) - at).total_seconds() / 3600)
                reasons.update((str(v.get("outcome")), str(v.get("reason") or "")) for v in answers)
            else:
                due = verdict_due(owner, sales, at, sales.feedback.remind_after_hours)
                tally.overdue = int(due is not None and due < iso(now))
            owners[owner].add(tally)
            team = (handoff.get("owner") or {}).get("team") or escalation_team(owner, sales)
            if team:
                teams[team].add(tally)
    return {
        "owners": [{"owner": owner, "name": _name(owner, sales), **tally.row()}
                   for owner, tally in sorted(owners.items(), key=lambda kv: (-kv[1].handoffs, kv[0]))],
        "teams": [{"team": team, "name": sales.teams[team].name if team in sales.teams else team, **tally.row()}
                  for team, tally in sorted(teams.items(), key=lambda kv: (-kv[1].handoffs, kv[0]))],
        "reasons": [{"outcome": outcome, "reason": reason or None, "count": count}
                    for (outcome, reason), count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


def _name(owner: str, sales: SalesConfig) -> str:
    person, queue = sales.people.get(owner), sales.queues.get(owner)
    return person.name if person else queue.name if queue else owner
