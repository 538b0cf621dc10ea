"""Typed model of config/segments.yaml: named audiences of leads, and the URL groups the scorer summarizes
page views by.

A segment is one criterion (a mapping with exactly one key); `all`, `any`, `not` and `segment` combine
others. What needs the rest of the config (forms.yaml) is checked by `segment_problems`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Annotated, Literal, TypeAlias

from nurture.config.customers import CpmSegment
from nurture.config.models import FIELD_NAME_PATTERN, FormDefinition, FormKind
from nurture.config.records import Check, record, setting
from nurture.config.sequences import Rank

NAME = r"^[a-z][a-z0-9_]{0,63}$"
# What a person does, as opposed to what we or machines do: the activity the scorer summarizes per type.
# A purchase (issue 24) is the person's too: it wakes a dormant customer, and segments can ask how recent.
PersonActivity = Literal["form_submit", "page_view", "download", "custom", "email_open", "email_click", "email_reply",
                         "purchase"]
PAGE_ACTIVITY = ("page_view", "download")  # summarized by URL group too
Stage = Literal["nurturing", "handed_off", "accepted", "won", "recycled"]
Status = Literal["active", "unconfirmed", "unsubscribed", "bounced", "complained", "converted", "dormant", "recycled"]
Consent = Literal["granted", "refused", "unknown"]
# Profile fields a `field` criterion reads (email_domain: the address's domain), besides custom.<name>.
MATCHABLE_FIELDS = ("company", "title", "department", "industry", "employees", "country", "language", "timezone",
                  "email_domain")
CUSTOM = "custom."
UrlGroups: TypeAlias = Mapping[str, Sequence[str]]  # group name -> URL path prefixes


@record
class Range:
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


def _known_field(name: str) -> str:
    custom = name.removeprefix(CUSTOM)
    if name not in MATCHABLE_FIELDS and not (name.startswith(CUSTOM) and re.fullmatch(FIELD_NAME_PATTERN, custom)):
        raise ValueError(f"unknown field '{name}': use one of {', '.join(MATCHABLE_FIELDS)} or custom.<name>")
    return name


@record
class FieldMatch:
    """A profile field, matched as fit rules match it: `keywords` (Latin ones as whole words, Japanese ones
    anywhere), `any_of` (exact, case-insensitive) or `min`/`max` (employees, read as fit reads "1,000名")."""

    name: Annotated[str, Check(_known_field)] = setting(
        description=f"one of {', '.join(MATCHABLE_FIELDS)}, or custom.<custom field name>")
    keywords: list[str] | None = setting(default=None, min_length=1)
    any_of: list[str] | None = setting(default=None, min_length=1)
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        counted = self.min is not None or self.max is not None
        if sum([self.keywords is not None, self.any_of is not None, counted]) != 1:
            raise ValueError("give exactly one of 'keywords', 'any_of' or 'min'/'max'")
        if counted and self.name != "employees":
            raise ValueError("'min'/'max' apply to the employees field only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")

    @property
    def custom_field(self) -> str | None:
        return self.name.removeprefix(CUSTOM) if self.name.startswith(CUSTOM) else None


@record
class ActivityMatch:
    """What the person did, from the summaries the scorer keeps on the profile (a machine's opens and clicks
    are not in them)."""

    type: PersonActivity
    url_group: str | None = setting(default=None, description="page views and downloads under one of url_groups")
    within_days: float | None = setting(default=None, gt=0, description="the latest one at most this many days ago")
    min_count: int = setting(default=1, ge=1, description="at least this many, over the retained activity")

    def __post_init__(self) -> None:
        if self.url_group is not None and self.type not in PAGE_ACTIVITY:
            raise ValueError(f"'url_group' applies to {' and '.join(PAGE_ACTIVITY)} only")
        if self.within_days is not None and self.min_count > 1:
            # The profile keeps a count and the latest time, not a count per day.
            raise ValueError("'within_days' and 'min_count' cannot be combined (the count is over all retained "
                             "activity): put one of each under 'all'")


@record
class AccountMatch:
    """The lead's company (its account), as its people's last day of activity left its standing. Every given
    filter must hold; a lead without an account matches none."""

    rank: list[Rank] | None = setting(default=None, min_length=1)
    people: Range | None = setting(default=None, description="how many people it has")
    hot: bool | None = setting(default=None, description="true: one of its account patterns fired within its days")
    roles: list[str] | None = setting(default=None, min_length=1, description="its buying group holds every one")
    missing: list[str] | None = setting(default=None, min_length=1, description="its buying group lacks any one")

    def __post_init__(self) -> None:
        if all(value is None for value in (self.rank, self.people, self.hot, self.roles, self.missing)):
            raise ValueError("give at least one of rank, people, hot, roles, missing")


@record
class Criterion:
    """Exactly one of these keys."""

    every: list[Criterion] | None = setting(default=None, alias="all", min_length=1)
    some: list[Criterion] | None = setting(default=None, alias="any", min_length=1)
    negated: Criterion | None = setting(default=None, alias="not")
    segment: str | None = setting(default=None, description="another segment, by name")
    rank: list[Rank] | None = setting(default=None, min_length=1, description="as of now (engagement decays)")
    stage: list[Stage] | None = setting(default=None, min_length=1)
    status: list[Status] | None = setting(default=None, min_length=1)
    score: Range | None = setting(default=None, description="fit + engagement as of now")
    fit: Range | None = None
    engagement: Range | None = setting(default=None, description="decayed to now")
    field: FieldMatch | None = None
    forms: list[str] | None = setting(default=None, min_length=1, description="submitted any of these forms")
    form_kinds: list[FormKind] | None = setting(default=None, min_length=1)
    activity: ActivityMatch | None = None
    source: list[str] | None = setting(default=None, min_length=1, description="utm_source of the first touch "
                                       "(an import's list name)")
    consent: list[Consent] | None = setting(default=None, min_length=1)
    subscribed: bool | None = setting(default=None, description="true: the lead may be emailed")
    receives: list[str] | None = setting(default=None, min_length=1,
                                         description="may be emailed, and receives any of these subscription types "
                                                     "(by its choice, or by the type's default)")
    customer_segment: list[CpmSegment] | None = setting(default=None, min_length=1, description=(
        "customers in any of these CPM segments (first_time, toddler, steady, trendy, loyal, lapsed_...)"))
    bought: list[str] | None = setting(default=None, min_length=1, description="customers who bought any of these "
                                       "products")
    next_product: list[str] | None = setting(default=None, min_length=1, description=(
        "customers whose likeliest next product (what customers like them bought next) is any of these"))
    account: AccountMatch | None = setting(default=None, description="the lead's company: its rank, people, "
                                           "buying group, whether it is hot")

    def __post_init__(self) -> None:
        given = self.keys()
        if len(given) != 1:
            known = ", ".join(_key(name) for name in CRITERION_FIELDS)
            found = f"got {', '.join(given)}" if given else "got none"
            raise ValueError(f"a criterion has exactly one key ({known}); {found}"
                             + ("; combine them under 'all'" if len(given) > 1 else ""))

    def keys(self) -> list[str]:
        """The criterion keys given, as written in YAML."""
        return [_key(name) for name in CRITERION_FIELDS if getattr(self, name) is not None]

    def children(self) -> Iterator[tuple[str, Criterion]]:
        """The criteria this one combines, with where they are written."""
        for index, child in enumerate(self.every or []):
            yield f"all[{index}]", child
        for index, child in enumerate(self.some or []):
            yield f"any[{index}]", child
        if self.negated is not None:
            yield "not", self.negated


CRITERION_FIELDS = tuple(field.name for field in dataclasses.fields(Criterion))
_ALIASES = {field.name: field.metadata["alias"] for field in dataclasses.fields(Criterion) if "alias" in field.metadata}


def _key(field_name: str) -> str:
    return _ALIASES.get(field_name, field_name)


@record
class Segment(Criterion):
    description: str = ""


def walk(criterion: Criterion, at: str = "") -> Iterator[tuple[str, Criterion]]:
    """Every criterion of a tree with its location ("all[1].not"), the root's being ""."""
    yield at, criterion
    for where, child in criterion.children():
        yield from walk(child, f"{at}.{where}" if at else where)


def _location(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _url_paths(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    problems = [f"url group '{name}': name must be a lower-case identifier" for name in groups
                if not _is_name(name)]
    problems += [f"url group '{name}': give at least one path prefix" for name, prefixes in groups.items()
                 if not prefixes]
    problems += [f"url group '{name}': '{prefix}' is not a path (it starts with '/')"
                 for name, prefixes in groups.items() for prefix in prefixes if not prefix.startswith("/")]
    if problems:
        raise ValueError("; ".join(problems))
    return groups


@record
class SegmentsConfig:
    url_groups: Annotated[dict[str, list[str]], Check(_url_paths)] = setting(
        default_factory=dict, description="name -> URL path prefixes (scheme, host and query are ignored)")
    segments: dict[str, Segment] = setting(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [f"segment '{name}': name must be a lower-case identifier" for name in self.segments
                    if not _is_name(name)]
        for name, segment in self.segments.items():
            for at, criterion in walk(segment):
                if criterion.segment is not None and criterion.segment not in self.segments:
                    problems.append(f"segment '{name}': {_location(at, 'segment')}: unknown segment "
                                    f"'{criterion.segment}'")
                group = criterion.activity.url_group if criterion.activity else None
                if group is not None and group not in self.url_groups:
                    known = ", ".join(self.url_groups) or "none defined"
                    problems.append(f"segment '{name}': {_location(at, 'activity.url_group')}: unknown url group "
                                    f"'{group}' (url_groups: {known})")
        problems += self._cycles()
        if problems:
            raise ValueError("; ".join(problems))

    def _cycles(self) -> list[str]:
        """A segment that refers back to itself, directly or through others, would never finish."""
        problems: set[str] = set()
        done: set[str] = set()

        def visit(name: str, trail: list[str]) -> None:
            if name in done or name not in self.segments:
                return
            path = [*trail, name]
            for at, criterion in walk(self.segments[name]):
                target = criterion.segment
                if target in path:
                    circle = [*path[path.index(target):], target]
                    problems.add(f"segment '{name}': {_location(at, 'segment')}: closes a circle of references: "
                                 f"{' -> '.join(circle)}")
                elif target is not None:
                    visit(target, path)
            done.add(name)

        for name in self.segments:
            visit(name, [])
        return sorted(problems)


def _is_name(name: str) -> bool:
    return re.fullmatch(NAME, name) is not None


def segment_problems(segments: SegmentsConfig, forms: Mapping[str, FormDefinition],
                     subscription_types: Collection[str], account_roles: Collection[str] | None = None) -> list[str]:
    """What segments.yaml says that forms.yaml, subscriptions.yaml and scoring.yaml contradict: forms that do not
    exist, custom fields no form declares, values a choice field never holds, unknown subscription types, buying-
    group roles not declared (`account_roles`, when scoring.yaml is at hand). Each names the segment and where in
    it."""
    declared = {field.name for form in forms.values() for field in form.custom_fields}
    choices: dict[str, set[str]] = {}
    for form in forms.values():
        for field in form.custom_fields:
            choices.setdefault(field.name, set()).update(choice.casefold() for choice in field.choices or [])
    problems: list[str] = []
    for name, segment in segments.segments.items():
        for at, criterion in walk(segment):
            where = f"segment '{name}': {_location(at, criterion.keys()[0])}"
            problems += [f"{where}: unknown form '{form_id}' (forms.yaml has: {', '.join(forms)})"
                         for form_id in criterion.forms or [] if form_id not in forms]
            problems += [f"{where}: unknown subscription type '{kind}' (subscriptions.yaml has: "
                         f"{', '.join(subscription_types)})"
                         for kind in criterion.receives or [] if kind not in subscription_types]
            if criterion.account is not None and account_roles is not None:
                named = [*(criterion.account.roles or []), *(criterion.account.missing or [])]
                problems += [f"{where}: unknown role '{role}' (scoring.yaml's accounts.roles has: "
                             f"{', '.join(account_roles)})" for role in named if role not in account_roles]
            wanted = criterion.field.custom_field if criterion.field else None
            if criterion.field is None or wanted is None:
                continue
            if wanted not in declared:
                problems.append(f"{where}.name: custom field '{wanted}' is not declared in forms.yaml")
            elif criterion.field.any_of is not None and choices[wanted]:
                never = [value for value in criterion.field.any_of if value.casefold() not in choices[wanted]]
                if never:
                    problems.append(f"{where}.any_of: '{wanted}' has no choice {', '.join(never)}")
    return problems
