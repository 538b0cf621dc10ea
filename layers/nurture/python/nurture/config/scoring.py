"""Typed model of config/scoring.yaml: fit, engagement and pattern rules, decay and ranks."""

from __future__ import annotations

from typing import Annotated, Literal

from nurture.config.accounts import AccountScoring
from nurture.config.customers import CustomerScoring
from nurture.config.matching import EventMatch
from nurture.config.models import TimeZoneName, keyed_by_ids
from nurture.config.records import Check, record, setting

RULE_ID = r"^[a-z][a-z0-9_]{0,63}$"
FitField = Literal["title", "department", "industry", "employees", "country", "company", "email_domain"]


MEETING_SET = "call_meeting_set"  # a built-in pattern: a call that set a meeting makes the lead hot at once
BUILT_IN_PATTERNS = {MEETING_SET: "電話で商談が決まった (a meeting was set on a call)"}
# What staff record by hand (a meeting, a trade-show booth visit): an activity of this type, its kind in `name`.
OFFLINE_ACTIVITY = "offline"
OFFLINE_NAME = r"^[a-z][a-z0-9_]{0,39}$"


@record
class FitRule:
    id: str = setting(pattern=RULE_ID)
    field: FitField
    keywords: list[str] | None = setting(default=None, description="case-insensitive; Latin keywords match whole "
                                         "words, Japanese ones anywhere")
    any_of: list[str] | None = setting(default=None, description="case-insensitive exact values")
    min: int | None = setting(default=None, description="employees: at least")
    max: int | None = setting(default=None, description="employees: at most")
    points: int = setting(ge=-100, le=100)
    group: str | None = setting(default=None, description="of the matching rules in a group, only the strongest counts")
    reason: str = setting(min_length=1)

    def __post_init__(self) -> None:
        given = [self.keywords is not None, self.any_of is not None, self.min is not None or self.max is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'keywords', 'any_of' or 'min'/'max'")
        if (self.min is not None or self.max is not None) and self.field != "employees":
            raise ValueError("'min'/'max' apply to the employees field only")


@record
class EngagementRule:
    id: str = setting(pattern=RULE_ID)
    when: EventMatch
    points: int = setting(ge=-100, le=100)
    daily_cap: int | None = setting(default=None, gt=0, description="at most this many points a day from this rule")
    reason: str = setting(min_length=1)


@record
class PatternRule:
    """Makes a lead hot regardless of points: one event (`when`), or `first` then `then` within days."""

    id: str = setting(pattern=RULE_ID)
    when: EventMatch | None = None
    first: EventMatch | None = None
    then: EventMatch | None = None
    within_days: float | None = setting(default=None, gt=0)
    reason: str = setting(min_length=1)

    def __post_init__(self) -> None:
        single = self.when is not None
        sequence = self.first is not None and self.then is not None and self.within_days is not None
        partial = any(x is not None for x in (self.first, self.then, self.within_days))
        if single == partial or (partial and not sequence):
            raise ValueError("give either 'when', or all of 'first', 'then' and 'within_days'")


@record
class RankThreshold:
    min_fit: int
    min_engagement: float = setting(ge=0)


@record
class Ranks:
    A: RankThreshold
    B: RankThreshold
    # A lead leaves a rank only when its engagement falls this far below the rank's threshold: engagement
    # decays by the second, and a lead just at a threshold must not change rank (and emails) minutes later.
    hysteresis: float = setting(default=2.0, ge=0, description="engagement points below a threshold before a "
                                "lead leaves the rank")


def _offline_kinds(kinds: dict[str, str]) -> dict[str, str]:
    if any(not label.strip() or len(label) > 100 for label in kinds.values()):
        raise ValueError("each offline activity needs a label of at most 100 characters")
    return keyed_by_ids(kinds, OFFLINE_NAME, "offline activity kinds are lower_snake_case ids")


@record
class ScoringRules:
    half_life_days: float = setting(gt=0, le=3650)
    timezone: TimeZoneName = "Asia/Tokyo"
    ranks: Ranks
    fit: list[FitRule] = setting(default_factory=list)
    engagement: list[EngagementRule] = setting(default_factory=list)
    patterns: list[PatternRule] = setting(default_factory=list)
    offline_activities: Annotated[dict[str, str], Check(_offline_kinds)] = setting(
        default_factory=dict, description="what sales and event staff record by hand (POST /v1/leads/{id}/"
        "activities, `nurture activity import`), by kind: its label; rules match them as event offline, name KIND")
    customers: CustomerScoring = setting(default_factory=CustomerScoring, description="RFM thresholds and CPM's "
                                         "lines for customers (leads with purchases)")
    accounts: AccountScoring = setting(default_factory=AccountScoring, description="how a company's people add up "
                                       "to its score and buying group")

    @property
    def pattern_reasons(self) -> dict[str, str]:
        """What makes a lead hot, by id: the built-in patterns, the leads' own and their accounts'."""
        return {**BUILT_IN_PATTERNS, **{p.id: p.reason for p in self.patterns},
                **{p.id: p.reason for p in self.accounts.patterns}}

    def __post_init__(self) -> None:
        self._rules_name_declared_offline_kinds()
        self._unique_ids_and_ordered_ranks()

    def _rules_name_declared_offline_kinds(self) -> None:
        steps = [(rule.id, rule.when) for rule in self.engagement] + [
            (rule.id, step) for rule in self.patterns for step in (rule.when, rule.first, rule.then)
            if step is not None]
        steps += [(pattern.id, pattern.when) for pattern in self.accounts.patterns if pattern.when is not None]
        undeclared = sorted({rule for rule, step in steps
                             if step.event == OFFLINE_ACTIVITY and step.name not in self.offline_activities})
        if undeclared:
            raise ValueError(f"rules on offline activities must name one of offline_activities "
                             f"({', '.join(self.offline_activities) or 'none declared'}): {', '.join(undeclared)}")

    def _unique_ids_and_ordered_ranks(self) -> None:
        every: list[FitRule | EngagementRule | PatternRule] = [*self.fit, *self.engagement, *self.patterns]
        # An account pattern's id stands beside a lead's patterns in the fired patterns and a handoff's reasons.
        ids = [rule.id for rule in every] + [pattern.id for pattern in self.accounts.patterns]
        ids += [pattern.id for pattern in self.accounts.patterns if pattern.id in BUILT_IN_PATTERNS]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicated)}")
        if (self.ranks.A.min_fit, self.ranks.A.min_engagement) < (self.ranks.B.min_fit, self.ranks.B.min_engagement):
            raise ValueError("rank A's thresholds must not be below rank B's")
