"""How customers are scored and grouped from their purchases (issue 24): RFM's thresholds and CPM's day counts
and amount, under scoring.yaml's `customers` (every value has a default)."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from nurture.config.records import record, setting

CpmSegment = Literal["first_time", "toddler", "steady", "trendy", "loyal", "lapsed_first_time", "lapsed_toddler",
                     "lapsed_steady", "lapsed_trendy", "lapsed_loyal"]


def _ascending(name: str, values: list[int]) -> None:
    if len(values) != 4 or any(later <= earlier for earlier, later in pairwise(values)):
        raise ValueError(f"{name}: four thresholds, each above the one before (they divide scores 1 to 5)")


@record
class RfmThresholds:
    """Each list divides its measure into scores 5 (best) to 1; with `scores_by: quantiles`, the customers'
    quintiles do, once `quantiles_from` customers are counted (these lists until then)."""

    scores_by: Literal["thresholds", "quantiles"] = setting(default="thresholds", description=(
        "thresholds: the lists below; quantiles: a fifth of the customers in each score"))
    quantiles_from: int = setting(default=100, ge=5, le=1_000_000, description=(
        "customers counted before quantiles replace the lists below"))

    recency_days: list[int] = setting(default_factory=lambda: [30, 90, 180, 365], description=(
        "days since the last purchase: within the first R5, within the second R4 ... beyond the last R1"))
    frequency: list[int] = setting(default_factory=lambda: [2, 3, 5, 10], description=(
        "purchases: at least the last F5, at least the third F4 ... below the first F1"))
    monetary: list[int] = setting(default_factory=lambda: [10_000, 50_000, 100_000, 500_000], description=(
        "the total spent, in yen: at least the last M5 ... below the first M1"))

    def __post_init__(self) -> None:
        _ascending("recency_days", self.recency_days)
        _ascending("frequency", self.frequency)
        _ascending("monetary", self.monetary)


@record
class CpmThresholds:
    """CPM's lines: a customer is lapsed (離脱) after `lapsed_after_days` without a purchase; loyal by amount
    (流行客, 優良客) from `high_total`; settled (コツコツ客, 優良客) once `settled_after_days` lie between their
    first and last purchase."""

    lapsed_after_days: int = setting(default=180, ge=1, le=3650)
    high_total: int = setting(default=100_000, ge=1, description="yen spent in all")
    settled_after_days: int = setting(default=300, ge=1, le=3650)


@record
class CustomerScoring:
    """scoring.yaml's `customers`: a customer's RFM scores and CPM segment, recomputed when their purchases change
    and on the days a score or segment moves by time alone."""

    rfm: RfmThresholds = setting(default_factory=RfmThresholds)
    cpm: CpmThresholds = setting(default_factory=CpmThresholds)
    next_product_from: int = setting(default=3, ge=1, le=100_000, description=(
        "customers who bought a product after another before it is offered as the next one"))
