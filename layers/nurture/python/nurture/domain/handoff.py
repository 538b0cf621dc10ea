"""The message sales tooling receives for each hot lead (schema in docs/handoff.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from nurture.config.sales import SalesConfig
from nurture.config.scoring import ScoringRules
from nurture.domain.leads import LeadRecord, breakdown, current_scores, public_activity, rank_of
from nurture.domain.messages import Message
from nurture.jsonable import plain

SCHEMA_VERSION: Literal[3] = 3  # 2: the owner, and the company's prefecture; 3: the lead's account
TOP_REASONS = 5
ACTIVITIES = 20
COLLEAGUES = 20


class _Message(Message, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Unknown keys are refused: a published contract (its JSON Schema in docs/)."""


class Contact(_Message, frozen=True, kw_only=True):
    email: str
    name: str | None = None
    title: str | None = None
    department: str | None = None
    phone: str | None = None
    country: str | None = None
    timezone: str | None = None
    language: str | None = None


class Company(_Message, frozen=True, kw_only=True):
    name: str | None = None
    industry: str | None = None
    employees: str | None = None
    prefecture: Annotated[str | None, msgspec.Meta(description="都道府県, as the lead gave it")] = None


class Scores(_Message, frozen=True, kw_only=True):
    fit: float
    engagement: float
    total: float


class Reason(_Message, frozen=True, kw_only=True):
    rule_id: str
    kind: Literal["fit", "engagement"]
    points: float
    reason: str


class Pattern(_Message, frozen=True, kw_only=True):
    id: str
    reason: str


class Reasons(_Message, frozen=True, kw_only=True):
    top: Annotated[list[Reason], msgspec.Meta(description="the rules that contributed most, strongest first")]
    patterns: Annotated[list[Pattern], msgspec.Meta(
        description="pattern rules that made the lead hot regardless of points")]


class Owner(_Message, frozen=True, kw_only=True):
    id: Annotated[str, msgspec.Meta(description="the salesperson's or queue's id in config/sales.yaml")]
    kind: Literal["person", "queue"]
    name: Annotated[str | None, msgspec.Meta(description="as config/sales.yaml names them when the message was sent")]
    email: Annotated[str | None, msgspec.Meta(description="the salesperson's address; null for a queue")]
    team: Annotated[str | None, msgspec.Meta(description="the team the routing rule chose from")]
    rule: Annotated[str | None, msgspec.Meta(
        description="the routing rule that chose the owner; null when none matched")]
    strategy: Literal["fixed", "round_robin", "least_loaded", "account_owner", "kept", "fallback"]
    reason: Annotated[str, msgspec.Meta(description="why this owner, in the rule's words")]


class Colleague(_Message, frozen=True, kw_only=True):
    """Another person of the lead's company, and what they have done lately."""

    lead_id: str
    email: str | None = None
    name: str | None = None
    title: str | None = None
    department: str | None = None
    roles: Annotated[list[str], msgspec.Meta(description="buying-group roles their title and department name")]
    rank: Literal["A", "B", "C"]
    total: float
    stage: str
    last_activity_at: str | None = None
    activity: Annotated[dict[str, dict[str, Any]], msgspec.Meta(
        description="what the person did, by activity type: how many times (n) and when last")]


class BuyingGroup(_Message, frozen=True, kw_only=True):
    roles: Annotated[dict[str, int], msgspec.Meta(description="people per role: decision_maker, manager, staff, it")]
    missing: list[str]


class AccountSummary(_Message, frozen=True, kw_only=True):
    """The company the lead belongs to, as GET /v1/accounts/{id} shows it."""

    id: str
    name: str | None = None
    rank: Literal["A", "B", "C"]
    scores: Scores
    buying_group: BuyingGroup
    people: Annotated[int, msgspec.Meta(description="the account's people, the lead included")]
    colleagues: Annotated[list[Colleague], msgspec.Meta(max_length=COLLEAGUES,
                                                        description="the others, highest total first")]


class Links(_Message, frozen=True, kw_only=True):
    lead: Annotated[str, msgspec.Meta(description="GET: the lead as the sales API shows it")]
    feedback: Annotated[str, msgspec.Meta(description="POST: accepted, rejected, won, lost or recycle")]


class HandoffMessage(_Message, frozen=True, kw_only=True):
    """One hot lead, handed to sales once per nurture cycle."""

    schema_version: Literal[3] = SCHEMA_VERSION
    handoff_id: Annotated[str, msgspec.Meta(description="unique per lead and cycle; the FIFO deduplication id")]
    handed_off_at: str
    lead_id: str
    contact: Contact
    company: Company
    owner: Annotated[Owner | None, msgspec.Meta(
        description="who the lead was routed to; null only for a handoff made before routing existed")]
    consent: Annotated[dict[str, Any] | None, msgspec.Meta(
        description="the latest consent: granted, purpose, version, form, time")]
    scores: Scores
    rank: Literal["A", "B", "C"]
    reasons: Reasons
    activities: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=ACTIVITIES, description="newest first")]
    account: Annotated[AccountSummary | None, msgspec.Meta(
        description="the lead's company and its other people; null for a lead that belongs to none")]
    links: Links


def handoff_message(handoff: dict[str, Any], record: LeadRecord, rules: ScoringRules, now: datetime,
                    api_base: str, sales: SalesConfig, account: dict[str, Any] | None = None) -> HandoffMessage:
    """`account`: the lead's account as `account_view` shows it, if it belongs to one."""
    profile = record.profile
    scores = current_scores(profile, rules, now)
    patterns = rules.pattern_reasons
    base = api_base.rstrip("/")
    return HandoffMessage.of(
        handoff_id=str(handoff["handoff_id"]),
        handed_off_at=str(handoff["created_at"]),
        lead_id=record.lead_id,
        contact=Contact.of(email=str(profile.get("email")),
                        **{k: _text(profile.get(k)) for k in ("name", "title", "department", "phone", "country",
                                                              "timezone", "language")}),
        company=Company.of(name=_text(profile.get("company")), industry=_text(profile.get("industry")),
                        employees=_text(profile.get("employees")), prefecture=_text(profile.get("prefecture"))),
        owner=_owner(handoff.get("owner"), sales),
        consent=_consent(profile, record.consents),
        scores=Scores.of(**scores),
        # The rank that made the lead hot, even if engagement has decayed since.
        rank=str(handoff.get("rank") or rank_of(scores, rules, profile.get("rank"))),  # type: ignore[arg-type]
        reasons=Reasons.of(
            top=[Reason.of(rule_id=r["rule_id"], kind=r["kind"], points=r["points"], reason=r["reason"])
                 for r in breakdown(profile, record.ledger, rules) if r["points"] > 0][:TOP_REASONS],
            patterns=[Pattern.of(id=p, reason=patterns.get(p, p)) for p in handoff.get("patterns") or []],
        ),
        activities=[plain(public_activity(a)) for a in record.activities[:ACTIVITIES]],
        account=_account(account, record.lead_id) if account is not None else None,
        links=Links.of(lead=f"{base}/v1/leads/{record.lead_id}", feedback=f"{base}/v1/leads/{record.lead_id}/feedback"),
    )


def _account(view: dict[str, Any], lead_id: str) -> AccountSummary:
    others = [person for person in view["people"] if person["lead_id"] != lead_id]
    return AccountSummary.of(
        id=view["account_id"], name=_text(view["name"]), rank=view["rank"], scores=Scores.of(**view["scores"]),
        buying_group=BuyingGroup.of(**view["buying_group"]), people=len(view["people"]),
        colleagues=[Colleague.of(**{key: person[key] for key in ("lead_id", "email", "name", "title", "department",
                                                                  "roles", "rank", "total", "stage",
                                                                  "last_activity_at")},
                                 activity=plain(person["activity"])) for person in others[:COLLEAGUES]])


def _owner(routed: dict[str, Any] | None, sales: SalesConfig) -> Owner | None:
    if not routed:
        return None
    owner_id = str(routed["id"])
    person, queue = sales.people.get(owner_id), sales.queues.get(owner_id)
    return Owner.of(id=owner_id, kind=routed["kind"], name=person.name if person else queue.name if queue else None,
                 email=person.email if person else None, team=_text(routed.get("team")),
                 rule=_text(routed.get("rule")), strategy=routed["strategy"], reason=str(routed["reason"]))


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)



def _consent(profile: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The consent that stands, with its wording from its consent record (the profile keeps no copy)."""
    standing = profile.get("consent")
    if not standing:
        return None
    record = next((r for r in records if r.get("event_id") == standing.get("event_id")), {})
    return plain({**standing, "purpose": record.get("purpose", standing.get("purpose"))})
