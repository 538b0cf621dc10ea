"""The segment evaluator: does a lead, as its profile stands now, belong to a segment?

Built once from the config, then asked about each profile (a scan worker asks about 100,000): every
criterion is compiled to a predicate up front, keyword patterns included, and what costs something per
lead (its scores as of now) is worked out only when a criterion asks, and then once. Profiles are read
as DynamoDB returns them (numbers are Decimals, sets are sets). A lead scored before the activity
summaries were kept has none: as far as segments can tell, it has done nothing yet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from nurture.config.scoring import ScoringRules
from nurture.config.segments import AccountMatch, ActivityMatch, Criterion, FieldMatch, Range, SegmentsConfig, walk
from nurture.config.subscriptions import SubscriptionsConfig
from nurture.domain.accounts.patterns import is_hot
from nurture.domain.accounts.standing import ACCOUNT_STANDING
from nurture.domain.audiences.search import LeadSearch, folded, mentions, search_criteria
from nurture.domain.clock import iso
from nurture.domain.errors import NurtureError
from nurture.domain.leads import consent_state, current_scores, mail_refusal, rank_of, status_of
from nurture.domain.preferences.choices import subscribed
from nurture.domain.scoring import employee_count, folded_options, mentions_any, profile_value
from nurture.domain.sequencing import first_touch_source
from nurture.domain.summaries import recorded

# The top-level profile attributes the evaluator reads, for a scan's ProjectionExpression (a scan reads,
# and pays for, whole items: the projection only keeps the answer small).
PROFILE_ATTRIBUTES = (
    "lead_id", "rank", "stage", "status", "sequence", "scoring", "email", "name", "company", "title", "department",
    "industry", "employees", "country", "language", "timezone", "custom", "consent", "first_touch", "form_kinds",
    "activity", "double_opt_in", "subscriptions", "customer", "products", "account",
)


class UnknownSegment(NurtureError):
    """segments.yaml has no segment of that name."""


class _Lead:
    """One profile as the criteria read it, at one moment."""

    def __init__(self, profile: dict[str, Any], now: datetime, rules: ScoringRules) -> None:
        self.profile = profile
        self.now = now
        self._rules = rules

    @cached_property
    def scores(self) -> dict[str, float]:
        """fit, engagement decayed to now, and their total: what the lead view shows."""
        return current_scores(self.profile, self._rules, self.now)

    @cached_property
    def rank(self) -> str:
        return rank_of(self.scores, self._rules, self.profile.get("rank"))

    @property
    def activity(self) -> dict[str, Any] | None:
        return self.profile.get("activity")

    @cached_property
    def form_kinds(self) -> set[str]:
        """Kinds of form used: capture keeps them on the profile (an import's too), the summaries since then."""
        return {*(self.profile.get("form_kinds") or ()), *((self.activity or {}).get("form_kinds") or {})}


Predicate = Callable[[_Lead], bool]


class SegmentEvaluator:
    def __init__(self, segments: SegmentsConfig, rules: ScoringRules, subscriptions: SubscriptionsConfig) -> None:
        self._segments = segments
        self._rules = rules
        self._subscriptions = subscriptions
        self._compiled: dict[str, Predicate] = {}
        for name in segments.segments:
            self._segment(name)

    def matches(self, name: str, profile: dict[str, Any], now: datetime) -> bool:
        return self.matcher(name)(profile, now)

    def matcher(self, segment: str, search: LeadSearch | None = None) -> Callable[[dict[str, Any], datetime], bool]:
        """Whether a profile, at a moment, is in the segment; or, with `search`, matches the console's search."""
        if search is None:
            predicate = self._compiled.get(segment)
            if predicate is None:
                raise UnknownSegment(f"There is no segment '{segment}' in segments.yaml.")
        else:
            if search.segment and search.segment not in self._compiled:
                raise UnknownSegment(f"There is no segment '{search.segment}' in segments.yaml.")
            parts = [self._compile(criterion) for criterion in search_criteria(search)]
            needle = folded(search.text)
            if needle:
                parts.append(lambda lead: mentions(lead.profile, needle))

            def predicate(lead: _Lead) -> bool:
                return all(part(lead) for part in parts)
        rules = self._rules
        return lambda profile, now: predicate(_Lead(profile, now, rules))

    def needs_account(self, segment: str, search: LeadSearch | None = None) -> bool:
        """Whether the segment (or the console's search) asks about the lead's company: its profiles need their
        ACCOUNT_STANDING."""
        names = {segment} if search is None else ({search.segment} if search.segment else set())
        return any(criterion.account is not None for name in names for criterion in self._criteria(name))

    def _criteria(self, name: str) -> list[Criterion]:
        """Every criterion of a segment, those of the segments it names included."""
        found = [criterion for _, criterion in walk(self._segments.segments[name])] \
            if name in self._segments.segments else []
        return found + [c for criterion in found if criterion.segment for c in self._criteria(criterion.segment)]

    def _segment(self, name: str) -> Predicate:
        # The config refuses reference cycles, so this ends; a segment used by others compiles once.
        if name not in self._compiled:
            self._compiled[name] = self._compile(self._segments.segments[name])
        return self._compiled[name]

    def _compile(self, criterion: Criterion) -> Predicate:
        if criterion.every is not None:
            every = [self._compile(child) for child in criterion.every]
            return lambda lead: all(part(lead) for part in every)
        if criterion.some is not None:
            some = [self._compile(child) for child in criterion.some]
            return lambda lead: any(part(lead) for part in some)
        if criterion.negated is not None:
            negated = self._compile(criterion.negated)
            return lambda lead: not negated(lead)
        if criterion.segment is not None:
            return self._segment(criterion.segment)
        if criterion.receives is not None:
            kinds, types = tuple(criterion.receives), self._subscriptions
            return lambda lead: mail_refusal(lead.profile) is None and any(subscribed(lead.profile, kind, types)
                                                                           for kind in kinds)
        if criterion.account is not None:
            return _account(criterion.account, self._rules)
        return _profile_criterion(criterion)


def _profile_criterion(criterion: Criterion) -> Predicate:
    """A criterion on the lead itself (not a combination of others)."""
    if criterion.rank is not None:
        return _among(criterion.rank, lambda lead: lead.rank)
    if criterion.stage is not None:
        return _among(criterion.stage, lambda lead: lead.profile.get("stage", "nurturing"))
    if criterion.status is not None:
        return _among(criterion.status, lambda lead: status_of(lead.profile))
    if criterion.score is not None:
        return _scored(criterion.score, "total")
    if criterion.fit is not None:
        return _scored(criterion.fit, "fit")
    if criterion.engagement is not None:
        return _scored(criterion.engagement, "engagement")
    if criterion.field is not None:
        return _field(criterion.field)
    if criterion.forms is not None:
        forms = tuple(criterion.forms)
        return lambda lead: any(recorded(lead.activity, "forms", form)[0] for form in forms)
    if criterion.form_kinds is not None:
        kinds = frozenset(criterion.form_kinds)
        return lambda lead: not kinds.isdisjoint(lead.form_kinds)
    if criterion.activity is not None:
        return _activity(criterion.activity)
    if criterion.source is not None:
        return _among(criterion.source, lambda lead: first_touch_source(lead.profile))
    if criterion.consent is not None:
        return _among(criterion.consent, lambda lead: consent_state(lead.profile))
    if criterion.customer_segment is not None:
        return _among(criterion.customer_segment, lambda lead: (lead.profile.get("customer") or {}).get("segment"))
    if criterion.next_product is not None:
        return _among(criterion.next_product, lambda lead: (lead.profile.get("customer") or {}).get("next_product"))
    if criterion.bought is not None:
        products = frozenset(criterion.bought)
        return lambda lead: not products.isdisjoint(lead.profile.get("products") or ())
    assert criterion.subscribed is not None  # the config allows exactly one key
    subscribed = criterion.subscribed
    return lambda lead: (mail_refusal(lead.profile) is None) is subscribed


def _account(match: AccountMatch, rules: ScoringRules) -> Predicate:
    zone = ZoneInfo(rules.timezone)

    def holds(lead: _Lead) -> bool:
        standing = lead.profile.get(ACCOUNT_STANDING)
        if not standing or "rank" not in standing:
            return False  # no account, or one whose standing is not stored yet
        roles = (standing.get("buying_group") or {}).get("roles") or {}
        return ((match.rank is None or standing["rank"] in match.rank)
                and (match.people is None or match.people.holds(float(standing.get("people", 0))))
                and (match.roles is None or all(roles.get(role, 0) > 0 for role in match.roles))
                and (match.missing is None or any(not roles.get(role, 0) for role in match.missing))
                and (match.hot is None or match.hot is is_hot(standing.get("fired"), rules.accounts,
                                                              lead.now.astimezone(zone).date().isoformat())))

    return holds


def _among(values: Collection[str], read: Callable[[_Lead], Any]) -> Predicate:
    wanted = frozenset(values)
    return lambda lead: read(lead) in wanted


def _scored(span: Range, score: str) -> Predicate:
    return lambda lead: span.holds(lead.scores[score])


def _field(match: FieldMatch) -> Predicate:
    """Matched as fit rules match a field: Latin keywords as whole words, Japanese ones anywhere."""
    custom = match.custom_field
    read: Callable[[dict[str, Any]], Any] = (
        (lambda profile: (profile.get("custom") or {}).get(custom)) if custom is not None
        else (lambda profile: profile_value(profile, match.name)))
    if match.keywords is not None:
        keywords = tuple(match.keywords)

        def has_keyword(lead: _Lead) -> bool:
            text = _text(read(lead.profile))
            return text is not None and mentions_any(text, keywords)

        return has_keyword
    if match.any_of is not None:
        options = folded_options(tuple(match.any_of))
        return lambda lead: _text(read(lead.profile)) in options
    span = Range(min=match.min, max=match.max)
    return lambda lead: (count := employee_count(read(lead.profile))) is not None and span.holds(count)


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value).casefold()


def _activity(match: ActivityMatch) -> Predicate:
    section, key = ("pages", match.url_group) if match.url_group is not None else ("types", match.type)
    window = timedelta(days=match.within_days) if match.within_days is not None else None

    def done(lead: _Lead) -> bool:
        count, last = recorded(lead.activity, section, key)
        if count < match.min_count:
            return False
        # Summaries' times are fixed-width UTC strings: they compare as times.
        return window is None or (last is not None and last >= iso(lead.now - window))

    return done
