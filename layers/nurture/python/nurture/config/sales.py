"""Typed model of config/sales.yaml: salespeople, teams, queues and the rules that route hot leads to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Annotated, Literal

from nurture.config.models import TimeZoneName, keyed_by_ids
from nurture.config.records import Check, Pattern, record, setting
from nurture.domain.sales.prefectures import REGIONS, prefecture_name

OWNER_ID = r"^[a-z][a-z0-9_.-]{0,39}$"
RULE_ID = r"^[a-z][a-z0-9_]{0,63}$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EMAIL = "email"  # a channel: the salesperson's address; any other channel names one of `webhooks`
Strategy = Literal["fixed", "round_robin", "least_loaded", "account_owner"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
WebhookKind = Literal["slack", "teams", "generic"]


@record
class WorkingHours:
    days: list[Weekday] = setting(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays: Literal["JP"] | None = setting(default="JP", description="whose public holidays are days off")

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("'start' must be before 'end'")


@record
class Salesperson:
    name: str = setting(min_length=1, max_length=100)
    email: str = setting(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    language: Literal["ja", "en"] = "ja"
    time_zone: TimeZoneName = "Asia/Tokyo"
    working_hours: WorkingHours = setting(default_factory=WorkingHours)
    channels: list[str] = setting(default_factory=lambda: [EMAIL], max_length=5,
                                  description="how alerts reach them: email, or the id of one of `webhooks`")


@record
class Team:
    name: str = setting(min_length=1, max_length=100)
    members: list[str] = setting(min_length=1, description="salesperson ids, in the order round robin takes them")
    lead: str | None = setting(default=None, description="the salesperson a team's overdue handoffs escalate to")


@record
class Webhook:
    """An incoming webhook alerts are posted to. Its URL and signing secret are never in this file: they live in
    the SSM SecureString parameter `<webhook parameter prefix>/<id>` (docs/sales.md, `nurture webhooks set`)."""

    kind: WebhookKind = setting(description="slack or teams (an incoming webhook's message format), or generic "
                                "(the handoff as signed JSON)")
    name: str | None = setting(default=None, max_length=100, description="what people call it, e.g. #sales-west")


@record
class Queue:
    """Where a lead no rule routes waits for a manager to assign it."""

    name: str = setting(min_length=1, max_length=100)
    team: str | None = setting(default=None, description="the team whose lead watches the queue")


def _known_prefectures(names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    unknown = [name for name in names if prefecture_name(name) is None]
    if unknown:
        raise ValueError(f"not a prefecture: {', '.join(unknown)}")
    return [str(prefecture_name(name)) for name in names]


def _known_regions(names: list[str] | None) -> list[str] | None:
    unknown = [name for name in names or [] if name not in REGIONS]
    if unknown:
        raise ValueError(f"not a region ({', '.join(REGIONS)}): {', '.join(unknown)}")
    return names


@record
class RouteMatch:
    """What a hot lead must have for a rule to route it. Every given condition must hold; within one
    condition, any listed value will do."""

    prefecture: Annotated[list[str] | None, Check(_known_prefectures)] = setting(
        default=None, description="都道府県, e.g. 東京都 (東京 and Tokyo also do)")
    region: Annotated[list[str] | None, Check(_known_regions)] = setting(
        default=None, description=f"地方: {', '.join(REGIONS)}")
    country: list[str] | None = setting(default=None,
                                        description="case-insensitive exact values, e.g. [JP, Japan, 日本]")
    industry: list[str] | None = setting(default=None, description="keywords, as fit rules match them")
    employees_min: int | None = setting(default=None, ge=0)
    employees_max: int | None = setting(default=None, ge=0)
    fit: list[str] | None = setting(default=None, description="fit rule ids the lead matches, e.g. title_executive "
                                    "for a decision-maker (its role)")
    form: list[str] | None = setting(default=None, description="the form whose submission made the lead hot")
    asset: list[str] | None = setting(default=None, description="the asset of that form")
    pattern: list[str] | None = setting(default=None, description="a pattern rule that made the lead hot")
    rank: list[Literal["A", "B", "C"]] | None = None
    phone: bool | None = setting(default=None, description="true: only leads with a phone number no call found "
                                 "wrong; false: only leads without one")

@record
class FeedbackDeadline:
    """How long a salesperson has to give a verdict (accepted, rejected, won, lost, recycle) on a handoff, in
    business hours of their own calendar."""

    remind_after_hours: float = setting(default=24, gt=0, le=2000, description="then the owner is reminded")
    escalate_after_hours: float = setting(default=24, ge=0, le=2000, description="after the reminder; 0: never")
    escalation: Literal["team_lead", "reassign"] = setting(
        default="team_lead", description="team_lead: the lead of the team that routed it is told; reassign: the "
                                         "lead is given to that team lead (recorded as Nurture's reassignment)")


@record
class RoutingRule:
    id: str = setting(pattern=RULE_ID)
    when: RouteMatch = setting(default_factory=RouteMatch)
    strategy: Strategy
    owner: str | None = setting(default=None, description="fixed: the salesperson or queue")
    team: str | None = setting(default=None, description="round_robin, least_loaded: the team; account_owner: only "
                               "owners in this team (any owner when absent)")
    reason: str = setting(min_length=1, max_length=200, description="why, as the handoff tells the owner")
    keep_owner: bool = setting(default=True, description="a lead handed off before keeps that owner; false routes it "
                               "afresh")

    def __post_init__(self) -> None:
        if self.strategy == "fixed" and (self.owner is None or self.team is not None):
            raise ValueError("a fixed rule names an 'owner' (and no team)")
        if self.strategy in ("round_robin", "least_loaded") and (self.team is None or self.owner is not None):
            raise ValueError(f"a {self.strategy} rule names a 'team' (and no owner)")
        if self.strategy == "account_owner" and self.owner is not None:
            raise ValueError("an account_owner rule names no 'owner': the account's owner is the one")


@record
class TaskRule(RoutingRule):
    """A call task (テレアポ) for a lead the rule matches while it is being nurtured: one per lead and nurture
    cycle, owned as a handoff would be (the same strategies), due in the owner's business hours."""

    due_after_hours: float = setting(default=8, gt=0, le=2000, description="business hours of the owner's calendar")
    attempts: int = setting(default=3, ge=1, le=10, description="calls that find nobody before the task closes")
    instead_of_handoff: bool = setting(
        default=False, description="true: a lead turning hot that matches is called first; its handoff waits "
                                   "for the call (a meeting set hands it off, not interested recycles it)")


KINTONE = "kintone"  # the id of the kintone connection's SSM parameter, beside the webhooks'
KintoneValue = Literal["lead_id", "email", "name", "company", "title", "department", "phone", "prefecture", "rank",
                       "stage", "score", "owner", "owner_name", "last_event", "last_event_at", "link"]
CrmEventType = Literal["lead.handed_off", "lead.feedback", "lead.owner_changed", "lead.call_recorded"]
CRM_EVENTS: tuple[CrmEventType, ...] = ("lead.handed_off", "lead.feedback", "lead.owner_changed",
                                        "lead.call_recorded")
# kintone's field codes: letters, digits, '_' and a few full-width signs, not starting with a digit, 128 at most.
KINTONE_FIELD_CODE = r"^[^\W\d][\w・＄￥]{0,127}$"


@record
class KintoneApp:
    """A kintone app that keeps one record per lead, added or updated (upsert) by the lead's id. Its URL
    (https://<subdomain>.cybozu.com) and API token live in the SSM SecureString `<webhook parameter prefix>/kintone`
    (`nurture webhooks set kintone --url URL --secret-stdin`), never in this file."""

    app: int = setting(ge=1, description="the app's id (the number in its URL)")
    key_field: str = setting(pattern=KINTONE_FIELD_CODE, description="the field code of a 文字列(1行) field with "
                             "値の重複を禁止する: it holds the lead id")
    fields: dict[KintoneValue, Annotated[str, Pattern(KINTONE_FIELD_CODE)]] = setting(
        min_length=1, description="the kintone field code each value goes to, e.g. {email: メールアドレス}")

    def __post_init__(self) -> None:
        if self.key_field in self.fields.values():
            raise ValueError(f"'{self.key_field}' is the key_field: the lead id goes there by itself")
        if len(set(self.fields.values())) != len(self.fields):
            raise ValueError("two values go to one field code")


@record
class CrmPush:
    """Where sales' events are pushed: generic signed webhooks, and a kintone app."""

    webhooks: list[str] = setting(default_factory=list, description="ids of generic `webhooks`: each gets every event")
    kintone: KintoneApp | None = None
    events: list[CrmEventType] = setting(default_factory=lambda: list(CRM_EVENTS), min_length=1)


def _owner_ids(entries: dict[str, object]) -> dict[str, object]:
    return keyed_by_ids(entries, OWNER_ID, "ids are lower-case letters, digits, '.', '_' or '-'")


OWNER_IDS = Check(_owner_ids)


@record
class SalesConfig:
    people: Annotated[dict[str, Salesperson], OWNER_IDS] = setting(default_factory=dict)
    teams: Annotated[dict[str, Team], OWNER_IDS] = setting(default_factory=dict)
    queues: Annotated[dict[str, Queue], OWNER_IDS] = setting(
        default_factory=lambda: {"unassigned": Queue(name="未割当 (unassigned)")})
    webhooks: Annotated[dict[str, Webhook], OWNER_IDS] = setting(
        default_factory=dict, description="Slack, Teams and generic webhooks people's channels name")
    routing: list[RoutingRule] = setting(default_factory=list, description="evaluated in order; the first that "
                                         "matches and finds an owner routes")
    tasks: list[TaskRule] = setting(default_factory=list, description="call task rules, evaluated in order: the "
                                    "first that matches gives the lead a task")
    fallback: str = setting(default="unassigned", description="the queue a lead no rule routes goes to")
    feedback: FeedbackDeadline = setting(default_factory=lambda: FeedbackDeadline())
    crm: CrmPush = setting(default_factory=lambda: CrmPush())


def secrets_needed(sales: SalesConfig) -> list[str]:
    """The SSM parameters (by id) the config's alerts and CRM push read: each must be stored before it is used."""
    used = [channel for person in sales.people.values() for channel in person.channels if channel in sales.webhooks]
    used += [webhook for webhook in sales.crm.webhooks if webhook in sales.webhooks]
    return sorted({*used, *([KINTONE] if sales.crm.kintone else [])})


def sales_problems(sales: SalesConfig, forms: Iterable[str], fit_rules: Iterable[str],
                   patterns: Iterable[str]) -> list[str]:
    """What sales.yaml names that does not exist, here or in forms.yaml and scoring.yaml, each with its path."""
    problems: list[str] = []
    both = sorted(set(sales.people) & set(sales.queues))
    if both:
        problems.append(f"people, queues: a salesperson and a queue share an id: {', '.join(both)}")
    for team_id, team in sales.teams.items():
        problems += [f"teams.{team_id}.members: no salesperson '{member}'" for member in team.members
                     if member not in sales.people]
        if team.lead is not None and team.lead not in sales.people:
            problems.append(f"teams.{team_id}.lead: no salesperson '{team.lead}'")
    problems += [f"queues.{queue_id}.team: no team '{queue.team}'" for queue_id, queue in sales.queues.items()
                 if queue.team is not None and queue.team not in sales.teams]
    for person_id, person in sales.people.items():
        hours = person.working_hours
        weekly = len(set(hours.days)) * (hours.end.hour * 60 + hours.end.minute - hours.start.hour * 60
                                          - hours.start.minute) / 60
        # Six weeks of their hours within the 60 days a deadline may take, holidays and all.
        limits = [("feedback.remind_after_hours", sales.feedback.remind_after_hours),
                  ("feedback.escalate_after_hours", sales.feedback.escalate_after_hours),
                  *((f"tasks.{n}.due_after_hours", rule.due_after_hours) for n, rule in enumerate(sales.tasks))]
        problems += [f"people.{person_id}.working_hours: {weekly:g} business hours a week cannot meet "
                     f"{name} ({limit:g}) within six weeks" for name, limit in limits if limit > 6 * weekly]
    problems += [f"webhooks.{reserved}: the id is the {what}'s; name the webhook otherwise"
                 for reserved, what in ((EMAIL, "email channel"), (KINTONE, "kintone connection"))
                 if reserved in sales.webhooks]
    for n, webhook_id in enumerate(sales.crm.webhooks):
        webhook = sales.webhooks.get(webhook_id)
        if webhook is None or webhook.kind != "generic":
            problems.append(f"crm.webhooks.{n}: no generic webhook '{webhook_id}'")
    problems += [f"people.{person_id}.channels: no webhook '{channel}'" for person_id, person in sales.people.items()
                 for channel in person.channels if channel != EMAIL and channel not in sales.webhooks]
    known = {"form": set(forms), "fit": set(fit_rules), "pattern": set(patterns)}
    for section, rules in (("routing", sales.routing), ("tasks", sales.tasks)):
        problems += _rule_problems(section, rules, sales, known)
    if sales.fallback not in sales.queues:
        problems.append(f"fallback: no queue '{sales.fallback}'")
    return problems


def _rule_problems(section: str, rules: list[RoutingRule] | list[TaskRule], sales: SalesConfig,
                   known: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for n, rule in enumerate(rules):
        where = f"{section}.{n} ({rule.id})"
        if rule.id in seen:
            problems.append(f"{where}: the id is used twice")
        seen.add(rule.id)
        if rule.owner is not None and rule.owner not in sales.people and rule.owner not in sales.queues:
            problems.append(f"{where}.owner: no salesperson or queue '{rule.owner}'")
        if rule.team is not None and rule.team not in sales.teams:
            problems.append(f"{where}.team: no team '{rule.team}'")
        for condition, names in known.items():
            problems += [f"{where}.when.{condition}: no {condition} '{name}'"
                         for name in getattr(rule.when, condition) or [] if name not in names]
    return problems
