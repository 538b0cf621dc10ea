"""An account's standing, worked out when it is read from its people's profiles (issue 24): its fit is its
best-fitting person's, its engagement its people's combined (decayed to now, as each lead's), its buying group
the roles their titles and departments name, and which roles are missing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nurture import keys
from nurture.config.accounts import AccountScoring
from nurture.config.scoring import ScoringRules
from nurture.domain.accounts.identity import account_of
from nurture.domain.accounts.patterns import hot_patterns
from nurture.domain.clock import parse_iso_or_none
from nurture.domain.leads import current_scores, rank_of
from nurture.domain.scoring import mentions_any

ACTIVE_DAYS = 14  # a person active this recently counts toward the account's active people
# What a profile is given of its account's stored standing when a segment asks about its company (never stored on
# the profile): the scan, the sender and the simulation read the accounts of the profiles they evaluate.
ACCOUNT_STANDING = "account_standing"


def with_accounts(profiles: list[dict[str, Any]],
                  read: Callable[[Iterable[str]], dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The profiles, each given its account's standing, read at once (`read`: standings by account key) for the
    accounts their `account` names."""
    standings = read({str(profile["account"]) for profile in profiles if profile.get("account")})
    return [{**profile, ACCOUNT_STANDING: standings.get(str(profile["account"]))} if profile.get("account")
            else profile for profile in profiles]


def roles_of(profile: dict[str, Any], scoring: AccountScoring) -> list[str]:
    """The buying-group roles a person's title and department name (several, or none)."""
    text = " ".join(str(profile.get(name) or "") for name in ("title", "department")).casefold()
    return [role for role, words in scoring.roles.items() if mentions_any(text, words)]


def account_rank(total: float, scoring: AccountScoring) -> str:
    return "A" if total >= scoring.rank_a else "B" if total >= scoring.rank_b else "C"


def shown_account(account: str, members: dict[str, dict[str, Any]], owner: str | None, fired: dict[str, Any],
                  rules: ScoringRules, now: datetime) -> dict[str, Any]:
    """The object GET /v1/accounts/{account_id} answers: its view, whether it is hot and the patterns that make it
    so (`fired`: as its state holds them)."""
    patterns = hot_patterns(fired, rules.accounts, now.astimezone(ZoneInfo(rules.timezone)).date().isoformat())
    return {**account_view(account, members, owner, rules, now), "hot": bool(patterns), "patterns": patterns}


def account_view(account: str, members: dict[str, dict[str, Any]], owner: str | None, rules: ScoringRules,
                 now: datetime) -> dict[str, Any]:
    """An account's standing worked out from its people. `members`: the profiles of the leads whose membership
    the account holds; one whose profile names another account (moved meanwhile) is left out."""
    scoring = rules.accounts
    people = []
    names: Counter[str] = Counter()
    domains: set[str] = set()
    for lead_id, profile in members.items():
        if not profile.get("account") or keys.account_id(str(profile["account"])) != account:
            continue
        ref = account_of(profile.get("email"), profile.get("company"))
        scores = current_scores(profile, rules, now)
        last = parse_iso_or_none(profile.get("last_activity_at"))
        people.append({"lead_id": lead_id, "email": profile.get("email"), "name": profile.get("name"),
                       "title": profile.get("title"), "department": profile.get("department"),
                       "rank": rank_of(scores, rules, profile.get("rank")), **scores,
                       "stage": profile.get("stage", "nurturing"), "roles": roles_of(profile, scoring),
                       "last_activity_at": profile.get("last_activity_at"),
                       "activity": dict((profile.get("activity") or {}).get("types") or {}),
                       "active": last is not None and last >= now - timedelta(days=ACTIVE_DAYS)})
        if profile.get("company"):
            names[str(profile["company"])] += 1
        if ref is not None and ref.domain:
            domains.add(ref.domain)
    people.sort(key=lambda person: (-person["total"], person["lead_id"]))
    fit = max((person["fit"] for person in people), default=0)
    engagements = [person["engagement"] for person in people]
    engagement = round(sum(engagements) if scoring.engagement == "sum" else max(engagements, default=0.0), 2)
    covered = {role: sum(role in person["roles"] for person in people) for role in scoring.roles}
    return {"account_id": account, "name": names.most_common(1)[0][0] if names else None,
            "domains": sorted(domains), "owner": owner,
            "scores": {"fit": fit, "engagement": engagement, "total": round(fit + engagement, 2)},
            "rank": account_rank(fit + engagement, scoring),
            "buying_group": {"roles": covered, "missing": [role for role, n in covered.items() if not n]},
            "active_people": sum(person["active"] for person in people), "active_days": ACTIVE_DAYS,
            "people": people}
