"""RFM scores and CPM segments at every boundary of the default thresholds (issue 24)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from nurture.config.customers import CpmThresholds, CustomerScoring, RfmThresholds
from nurture.config.records import validated
from nurture.domain.customers.review import Bought, next_review_day, standing_of
from nurture.domain.customers.rfm import CPM_NAMES, Purchases, cpm_segment, rfm

TODAY = date(2026, 12, 5)
RFM = RfmThresholds()
CPM = CpmThresholds()


def bought(days_ago: int = 0, count: int = 1, total: int = 5_000, span_days: int = 0) -> Purchases:
    last = TODAY - timedelta(days=days_ago)
    return Purchases(first=last - timedelta(days=span_days), last=last, count=count, total=total)


@pytest.mark.parametrize(("days_ago", "recency"), [(0, 5), (30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (181, 2),
                                                    (365, 2), (366, 1), (3000, 1)])
def test_recency_scores_five_within_the_first_line_down_to_one_beyond_the_last(days_ago, recency):
    assert rfm(bought(days_ago=days_ago), TODAY, RFM).recency == recency


@pytest.mark.parametrize(("count", "frequency"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4), (10, 5), (80, 5)])
def test_frequency_scores_by_purchases_at_or_above_each_line(count, frequency):
    assert rfm(bought(count=count), TODAY, RFM).frequency == frequency


@pytest.mark.parametrize(("total", "monetary"), [(0, 1), (9_999, 1), (10_000, 2), (49_999, 2), (50_000, 3),
                                                 (99_999, 3), (100_000, 4), (499_999, 4), (500_000, 5)])
def test_monetary_scores_by_the_total_at_or_above_each_line(total, monetary):
    assert rfm(bought(total=total), TODAY, RFM).monetary == monetary


@pytest.mark.parametrize(("purchases", "segment"), [
    (bought(count=1, total=900_000, span_days=0), "first_time"),  # one purchase, however large
    (bought(count=2, total=99_999, span_days=299), "toddler"),
    (bought(count=2, total=99_999, span_days=300), "steady"),
    (bought(count=2, total=100_000, span_days=299), "trendy"),
    (bought(count=2, total=100_000, span_days=300), "loyal"),
    (bought(days_ago=179, count=6, total=300_000, span_days=700), "loyal"),
    (bought(days_ago=180, count=6, total=300_000, span_days=700), "lapsed_loyal"),
    (bought(days_ago=180, count=1), "lapsed_first_time"),
    (bought(days_ago=400, count=3, total=20_000, span_days=10), "lapsed_toddler"),
    (bought(days_ago=400, count=3, total=20_000, span_days=400), "lapsed_steady"),
    (bought(days_ago=400, count=3, total=200_000, span_days=10), "lapsed_trendy"),
])
def test_cpm_sorts_by_purchases_total_span_and_lapse_into_its_ten_segments(purchases, segment):
    assert cpm_segment(purchases, TODAY, CPM) == segment
    assert CPM_NAMES[segment]  # each has its Japanese name


def test_thresholds_must_divide_five_scores_in_ascending_order():
    assert validated(RfmThresholds, {"frequency": [2, 4, 8, 16]}).frequency == [2, 4, 8, 16]
    for wrong in ([2, 2, 5, 10], [10, 5, 3, 2], [2, 3, 5]):
        with pytest.raises(Exception, match="four thresholds"):
            validated(RfmThresholds, {"frequency": wrong})


def test_a_summary_without_purchases_or_ending_before_it_began_is_refused():
    with pytest.raises(ValueError):
        Purchases(first=TODAY, last=TODAY, count=0, total=0)
    with pytest.raises(ValueError):
        Purchases(first=TODAY, last=TODAY - timedelta(days=1), count=2, total=0)


def test_the_review_counts_only_the_days_a_customer_can_move():
    scoring = CustomerScoring()
    standing = standing_of([Bought(date(2026, 1, 1), 1000)], date(2026, 1, 10), scoring)
    days = []
    today: date | None = date(2026, 1, 10)
    while today is not None:
        today = next_review_day(standing.purchases, today, scoring)
        days.append(today)
    # The day after each recency line (30, 90, 180, 365 days) and the lapse (180 days), then never again.
    assert days == [date(2026, 2, 1), date(2026, 4, 2), date(2026, 6, 30), date(2026, 7, 1), date(2027, 1, 2), None]
    # And on each of those days, and on no day between, the scores or the segment move.
    bought = [Bought(date(2026, 1, 1), 1000)]

    def shown(day: date) -> tuple[int, str]:
        moved = standing_of(bought, day, scoring)
        return moved.recency, moved.segment

    for day in [d for d in days if d is not None]:
        assert shown(day) != shown(day - timedelta(days=1))
    assert shown(date(2027, 6, 1)) == shown(date(2027, 1, 2))
