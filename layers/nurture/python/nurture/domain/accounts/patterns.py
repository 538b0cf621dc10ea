"""Account patterns (issue 24): what several people of one company do together makes the account hot, e.g. three
people active within 14 days, or a decision-maker and a staff member both on the pricing page.

Pure. The account keeps, per pattern, the last day each of its people did what the pattern counts (a person's
first such activity of a day is told once: `ScoreOutcome.account_marks`), and when each pattern last fired and
through whom. Marks are days per person, so telling the same day again (a replayed batch, a retried write)
changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config.accounts import AccountPattern, AccountScoring

MARKS_KEPT = 50  # per pattern: an account's item stays small (a pattern counts at most 50 people)


class Touch(Struct, frozen=True):
    """What one lead's new activity tells its account: per pattern (or ACTIVE_MARK), the day and time it did it."""

    lead_id: str
    roles: tuple[str, ...]
    marks: dict[str, tuple[str, str]]


class Fired(Struct, frozen=True):
    day: str
    at: str
    lead_id: str  # whose activity completed it: the lead handed to sales for it

    def to_item(self) -> dict[str, str]:
        return {"day": self.day, "at": self.at, "lead_id": self.lead_id}


class AccountState(Struct, frozen=True):
    # pattern -> lead id -> {"day": the last day it did what the pattern counts, "roles": its roles then}
    marks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    fired: dict[str, Fired] = field(default_factory=dict)
    version: int = 0  # optimistic lock: two stream shards may tell one account at once

    def to_item(self) -> dict[str, Any]:
        return {"marks": self.marks, "fired": {p: f.to_item() for p, f in self.fired.items()},
                "version": self.version}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> AccountState:
        if not item:
            return cls()
        marks = {pattern: {lead: {"day": str(mark["day"]), "roles": sorted(mark.get("roles") or [])}
                           for lead, mark in people.items()}
                 for pattern, people in (item.get("marks") or {}).items()}
        fired = {pattern: Fired(str(f["day"]), str(f["at"]), str(f["lead_id"]))
                 for pattern, f in (item.get("fired") or {}).items()}
        return cls(marks, fired, int(item.get("version", 0)))


def tell(state: AccountState, touches: list[Touch], scoring: AccountScoring, today: str) -> AccountState:
    """The account after its people's new activity: their marks added, marks older than their pattern's days
    dropped, and each pattern that now holds fired through the person whose activity completed it, unless it
    fired within its days already."""
    marks = {pattern.id: dict(state.marks.get(pattern.id, {})) for pattern in scoring.patterns}
    fired = {pattern: f for pattern, f in state.fired.items() if pattern in marks}
    for pattern in scoring.patterns:
        told = sorted(((touch.marks[pattern.id], touch) for touch in touches if pattern.id in touch.marks),
                      key=lambda pair: pair[0][1])
        people = marks[pattern.id]
        horizon = _days_before(today, pattern.within_days)  # what happened before is past: it fires nothing now
        for (day, at), touch in told:
            if day > people.get(touch.lead_id, {}).get("day", ""):
                people[touch.lead_id] = {"day": day, "roles": sorted(touch.roles)}
            last = fired.get(pattern.id)
            # Stamped with the day it is told (activity recorded late, backdated, holds no shorter)
            stamp = max(day, today)
            if day > horizon and (last is None or last.day <= _days_before(stamp, pattern.within_days)) \
                    and holds(pattern, people, day):
                fired[pattern.id] = Fired(stamp, at, touch.lead_id)
        marks[pattern.id] = _kept(pattern, {lead: mark for lead, mark in people.items() if mark["day"] > horizon})
    return replace(state, marks={p: people for p, people in marks.items() if people}, fired=fired)


def _kept(pattern: AccountPattern, people: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """At most MARKS_KEPT people's marks, the latest, and the latest of each role the pattern names: enough to
    decide it (it asks for at most 50 people), however big the company."""
    latest = sorted(people.items(), key=lambda item: (item[1]["day"], item[0]), reverse=True)
    kept = dict(latest[:MARKS_KEPT])
    for role in pattern.roles:
        if not any(role in mark["roles"] for mark in kept.values()):
            kept.update(next(([item] for item in latest if role in item[1]["roles"]), []))
    return kept


def holds(pattern: AccountPattern, people: dict[str, dict[str, Any]], day: str) -> bool:
    """Enough people did it within the pattern's days up to `day`, holding every role it names between them."""
    horizon = _days_before(day, pattern.within_days)
    recent = [mark for mark in people.values() if horizon < mark["day"] <= day]
    roles = {role for mark in recent for role in mark["roles"]}
    return len(recent) >= pattern.people and set(pattern.roles) <= roles


def fired_through(state: AccountState, lead_id: str, scoring: AccountScoring, today: str) -> dict[str, str]:
    """The patterns that fired through this lead within their days: pattern -> when (a lead whose own write failed
    after its account's is handed on when the stream retries)."""
    return {pattern: f.at for pattern, (_, f) in _in_force(state.fired, scoring, today).items() if f.lead_id == lead_id}


def is_hot(fired: dict[str, Any] | None, scoring: AccountScoring, today: str) -> bool:
    """Whether any of an account's patterns, as stored (`AccountState.to_item()["fired"]`), fired within its days."""
    return bool(hot_patterns(fired, scoring, today))


def hot_patterns(fired: dict[str, Any] | None, scoring: AccountScoring, today: str) -> list[dict[str, Any]]:
    """The account's patterns that fired within their days, as stored: what makes it hot, for people to read."""
    in_force = _in_force(AccountState.from_item({"fired": fired}).fired, scoring, today)
    return [{"id": pattern_id, "reason": pattern.reason, "fired_on": f.day, "lead_id": f.lead_id or None}
            for pattern_id, (pattern, f) in sorted(in_force.items())]


def _in_force(fired: dict[str, Fired], scoring: AccountScoring, today: str
              ) -> dict[str, tuple[AccountPattern, Fired]]:
    """The firings of patterns still configured, within their days."""
    patterns = {pattern.id: pattern for pattern in scoring.patterns}
    return {pattern_id: (patterns[pattern_id], f) for pattern_id, f in fired.items()
            if pattern_id in patterns and f.day > _days_before(today, patterns[pattern_id].within_days)}


def _days_before(day: str, days: int) -> str:
    """The last day outside a window of `days` days ending on `day`."""
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()
