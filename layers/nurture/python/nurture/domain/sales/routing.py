"""Who a hot lead goes to: config/sales.yaml's routing rules in order, then the fallback queue.

Pure: what the store knows (round-robin positions, open handoffs per salesperson, the account's owner) comes
in as a RoutingState read just before, and the Assignment says what to write with the handoff so that two
leads routed at once cannot take the same turn (the round-robin position is a conditional write)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any, Literal

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config.sales import RouteMatch, RoutingRule, SalesConfig
from nurture.domain.sales.prefectures import REGION_OF, prefecture_name
from nurture.domain.scoring import employee_count, mentions_any


class RoutableLead(Struct, frozen=True):
    """What routing may look at: who the lead is and what made it hot (or, for a call task, what it did)."""

    profile: Mapping[str, Any]
    rank: str
    fit_rules: frozenset[str] = frozenset()  # the fit rules it matches (its role, size, industry ...)
    patterns: frozenset[str] = frozenset()  # pattern rules that made it hot
    forms: frozenset[str] = frozenset()  # forms it submitted in the events that made it hot
    assets: frozenset[str] = frozenset()  # and their assets
    account: str | None = None  # its account's key (domain.accounts.identity), if it has one


class RoutingState(Struct, frozen=True):
    round_robin: Mapping[str, int] = field(default_factory=dict)  # team -> assignments made so far
    open_handoffs: Mapping[str, int] = field(default_factory=dict)  # salesperson -> handoffs without a verdict
    account_owner: str | None = None  # the salesperson who owns the lead's company, if any


class Assignment(Struct, frozen=True):
    owner: str
    kind: Literal["person", "queue"]
    rule: str | None  # the routing rule that chose the owner; None for the fallback
    strategy: Literal["fixed", "round_robin", "least_loaded", "account_owner", "kept", "fallback"]
    reason: str
    team: str | None = None
    turn: int | None = None  # round robin: the team's position this assignment takes (written if still free)
    account: str | None = None  # the lead's company: a salesperson owner becomes its owner if it has none
    verdict_due: str | None = None  # a salesperson's: when their verdict is due (the feedback deadline)


def route(lead: RoutableLead, sales: SalesConfig, state: RoutingState,
          rules: Sequence[RoutingRule] | None = None) -> Assignment:
    """The owner by `rules` (sales.yaml's routing rules, or the one task rule that gave a call task)."""
    return replace(_choose(lead, sales.routing if rules is None else rules, sales, state), account=lead.account)


def _choose(lead: RoutableLead, rules: Sequence[RoutingRule], sales: SalesConfig, state: RoutingState) -> Assignment:
    kept = str(lead.profile.get("owner") or "")
    for rule in rules:
        if not matches(rule.when, lead):
            continue
        if kept in sales.people and rule.keep_owner:
            return _kept(kept, rule.id)
        chosen = _by_strategy(rule, sales, state)
        if chosen is not None:
            return chosen
    if kept in sales.people:
        return _kept(kept, None)
    return Assignment(sales.fallback, "queue", None, "fallback", "no routing rule matched")


def _kept(owner: str, rule: str | None) -> Assignment:
    return Assignment(owner, "person", rule, "kept", "handed to the same salesperson as before")


def _by_strategy(rule: RoutingRule, sales: SalesConfig, state: RoutingState) -> Assignment | None:
    if rule.strategy == "fixed":
        owner = str(rule.owner)
        return Assignment(owner, "person" if owner in sales.people else "queue", rule.id, "fixed", rule.reason)
    if rule.strategy == "account_owner":
        account_owner = state.account_owner
        allowed = sales.people if rule.team is None else sales.teams[rule.team].members
        if account_owner is None or account_owner not in sales.people or account_owner not in allowed:
            return None  # no owner for this company (yet): the next rule decides
        return Assignment(account_owner, "person", rule.id, "account_owner", rule.reason, rule.team)
    team = str(rule.team)
    members = sales.teams[team].members
    if rule.strategy == "round_robin":
        turn = state.round_robin.get(team, 0)
        return Assignment(members[turn % len(members)], "person", rule.id, "round_robin", rule.reason, team, turn)
    # least_loaded: fewest open handoffs; a tie goes to the one listed first
    owner = min(members, key=lambda member: (state.open_handoffs.get(member, 0), members.index(member)))
    return Assignment(owner, "person", rule.id, "least_loaded", rule.reason, team)


def state_needed(rules: Sequence[RoutingRule], sales: SalesConfig) -> tuple[list[str], list[str], bool]:
    """What routing by `rules` reads from the store: the round-robin teams, the least-loaded teams' salespeople,
    and whether any rule follows the account's owner."""
    teams = sorted({str(rule.team) for rule in rules if rule.strategy == "round_robin"})
    people = sorted({member for rule in rules if rule.strategy == "least_loaded"
                     for member in sales.teams[str(rule.team)].members})
    return teams, people, any(rule.strategy == "account_owner" for rule in rules)


def matches(when: RouteMatch, lead: RoutableLead) -> bool:
    profile = lead.profile
    prefecture = prefecture_name(profile.get("prefecture"))
    checks = [
        when.prefecture is None or prefecture in when.prefecture,
        when.region is None or (prefecture is not None and REGION_OF[prefecture] in when.region),
        when.country is None or str(profile.get("country") or "").casefold() in {c.casefold() for c in when.country},
        when.industry is None or _has_keyword(profile.get("industry"), when.industry),
        (when.employees_min is None and when.employees_max is None)
        or _employees_within(profile.get("employees"), when),
        when.fit is None or not lead.fit_rules.isdisjoint(when.fit),
        when.form is None or not lead.forms.isdisjoint(when.form),
        when.asset is None or any(fnmatchcase(asset.lower(), glob.lower()) for asset in lead.assets
                                  for glob in when.asset),
        when.pattern is None or not lead.patterns.isdisjoint(when.pattern),
        when.rank is None or lead.rank in when.rank,
        when.phone is None or when.phone == callable_phone(profile),
    ]
    return all(checks)


def callable_phone(profile: Mapping[str, Any]) -> bool:
    """Whether the lead gave a phone number no call has found wrong (a new number is tried again)."""
    phone = str(profile.get("phone") or "").strip()
    return bool(phone) and phone != profile.get("phone_wrong")


def _has_keyword(value: Any, keywords: list[str]) -> bool:
    text = str(value or "").casefold()
    return bool(text) and mentions_any(text, keywords)


def _employees_within(value: Any, when: RouteMatch) -> bool:
    count = employee_count(value)
    return count is not None and (when.employees_min is None or count >= when.employees_min) and (
        when.employees_max is None or count <= when.employees_max)
