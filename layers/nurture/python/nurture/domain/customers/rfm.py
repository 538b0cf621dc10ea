"""RFM scores and CPM segments of a customer from the summary of their purchases, as of a day.

RFM scores recency, frequency and monetary value 5 (best) to 1 by the marketer's thresholds. CPM (customer
portfolio management) adds the span between the first and the last purchase and sorts customers into ten
segments: five current ones and their lapsed (離脱) counterparts."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from msgspec import Struct

from nurture.config.customers import CpmSegment, CpmThresholds

__all__ = ["CPM_NAMES", "LAPSED", "CpmSegment", "Lines", "Purchases", "Rfm", "RfmLines", "cpm_segment", "rfm"]
CPM_NAMES: dict[CpmSegment, str] = {
    "first_time": "初回客", "toddler": "よちよち客", "steady": "コツコツ客", "trendy": "流行客", "loyal": "優良客",
    "lapsed_first_time": "初回離脱客", "lapsed_toddler": "よちよち離脱客", "lapsed_steady": "コツコツ離脱客",
    "lapsed_trendy": "流行離脱客", "lapsed_loyal": "優良離脱客"}

LAPSED: dict[CpmSegment, CpmSegment] = {
    "first_time": "lapsed_first_time", "toddler": "lapsed_toddler", "steady": "lapsed_steady",
    "trendy": "lapsed_trendy", "loyal": "lapsed_loyal"}


class Purchases(Struct, frozen=True):
    """What the scores read of a customer's purchases."""

    first: date
    last: date
    count: int
    total: int  # yen

    def __post_init__(self) -> None:
        if self.count < 1 or self.last < self.first or self.total < 0:
            raise ValueError("a customer has a purchase or more, the last not before the first, a total of 0 or more")


class Lines(Protocol):
    """Where each score begins: scoring.yaml's fixed thresholds, or the population's quintiles (RfmLines)."""

    @property
    def recency_days(self) -> list[int]: ...

    @property
    def frequency(self) -> list[int]: ...

    @property
    def monetary(self) -> list[int]: ...


class RfmLines(Struct, frozen=True):
    """Lines worked out from the customers' distribution: ascending, and equal where customers tie (a score then
    goes to nobody)."""

    recency_days: list[int]
    frequency: list[int]
    monetary: list[int]


class Rfm(Struct, frozen=True):
    recency: int
    frequency: int
    monetary: int


def _at_least(value: int, thresholds: list[int]) -> int:
    """1 below the first threshold, up to 5 at or above the last."""
    return 1 + sum(value >= threshold for threshold in thresholds)


def rfm(purchases: Purchases, today: date, thresholds: Lines) -> Rfm:
    days = (today - purchases.last).days
    recency = 5 - sum(days > limit for limit in thresholds.recency_days)
    return Rfm(recency, _at_least(purchases.count, thresholds.frequency),
               _at_least(purchases.total, thresholds.monetary))


def cpm_segment(purchases: Purchases, today: date, thresholds: CpmThresholds) -> CpmSegment:
    settled = (purchases.last - purchases.first).days >= thresholds.settled_after_days
    high = purchases.total >= thresholds.high_total
    current: CpmSegment
    if purchases.count == 1:
        current = "first_time"
    elif high:
        current = "loyal" if settled else "trendy"
    else:
        current = "steady" if settled else "toddler"
    return LAPSED[current] if (today - purchases.last).days >= thresholds.lapsed_after_days else current
