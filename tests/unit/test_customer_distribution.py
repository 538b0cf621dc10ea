"""The customers' distribution and RFM's quintiles from it (issue 24): counted once, moved with a customer's
buckets, and lines that give each fifth of the customers its score, ties sharing the lower one."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from nurture.config.customers import CustomerScoring, RfmThresholds
from nurture.config.records import validated
from nurture.domain.customers.distribution import counted_as, moves, quantile_lines, removal, total_bucket
from nurture.domain.customers.review import monthly_day, next_review_day
from nurture.domain.customers.rfm import Purchases, rfm

TODAY = date(2026, 12, 5)
FIXED = RfmThresholds()


def customer(orders: int = 1, total: int = 5_000, last: date = date(2026, 11, 20)) -> Purchases:
    return Purchases(first=date(2026, 1, 5), last=last, count=orders, total=total)


def counted(*customers: Purchases) -> dict[str, int]:
    """The counters these customers leave when each is counted once."""
    counts: Counter[str] = Counter()
    for one in customers:
        counts.update(moves(None, counted_as(one)))
    return dict(counts)


@pytest.mark.parametrize(("total", "bucket"), [(0, -1), (1, 0), (9, 9), (10, 10), (31_622, 44), (31_623, 45),
                                               (100_000, 50), (1_000_000, 60)])
def test_a_total_falls_in_its_tenth_of_a_decade(total, bucket):
    assert total_bucket(total) == bucket


def test_a_customer_is_counted_once_moves_only_the_buckets_it_leaves_and_is_taken_out_whole():
    before = counted_as(customer(orders=1, total=30_000, last=date(2026, 11, 20)))
    assert moves(None, before) == {"n": 1, "f#1": 1, "m#44": 1, "r#2026-11": 1}
    assert moves(before, before) == {}  # reviewed again with nothing new: no write
    after = counted_as(customer(orders=2, total=30_500, last=date(2026, 11, 28)))
    assert moves(before, after) == {"f#1": -1, "f#2": 1}  # the same total's bucket, the same month
    assert removal(after) == {"n": -1, "f#2": -1, "m#44": -1, "r#2026-11": -1}


def test_the_fixed_thresholds_score_until_enough_customers_are_counted():
    few = counted(*(customer(orders=n) for n in range(1, 5)))
    assert quantile_lines(few, TODAY, FIXED, at_least=5) is FIXED
    assert quantile_lines({}, TODAY, FIXED, at_least=5) is FIXED


def test_each_fifth_of_the_customers_gets_its_score_by_what_they_spent():
    spent = [1_000, 3_000, 8_000, 20_000, 60_000, 150_000, 400_000, 900_000, 2_000_000, 5_000_000]
    population = [customer(total=total) for total in spent]
    lines = quantile_lines(counted(*population), TODAY, FIXED, at_least=10)
    assert [rfm(one, TODAY, lines).monetary for one in population] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_customers_who_tie_share_the_lower_score():
    # Six of ten bought once, two twice, two five times: once is F1 (no one is below it), twice F4, five times F5.
    population = [customer(orders=1)] * 6 + [customer(orders=2)] * 2 + [customer(orders=5)] * 2
    lines = quantile_lines(counted(*population), TODAY, FIXED, at_least=10)
    assert lines.frequency == [2, 2, 2, 5]
    assert [rfm(customer(orders=n), TODAY, lines).frequency for n in (1, 2, 5)] == [1, 4, 5]


def test_when_every_customer_ties_nobody_gets_a_higher_score():
    lines = quantile_lines(counted(*[customer(orders=1)] * 10), TODAY, FIXED, at_least=10)
    assert rfm(customer(orders=1), TODAY, lines).frequency == 1
    assert rfm(customer(orders=1000), TODAY, lines).frequency == 1  # a customer counted after the lines were read
    assert rfm(customer(last=date(2026, 11, 20)), TODAY, lines).recency == 1


def test_recency_lines_reach_back_to_the_first_of_each_fifths_month():
    months = [date(2026, m, 10) for m in (2, 4, 6, 8, 10)]
    population = [customer(last=day) for day in months for _ in range(2)]
    lines = quantile_lines(counted(*population), TODAY, FIXED, at_least=10)
    # The newest fifth bought in October or later: within the days since 1 October.
    assert lines.recency_days == [(TODAY - date(2026, m, 1)).days for m in (10, 8, 6, 4)]
    assert [rfm(customer(last=day), TODAY, lines).recency for day in months] == [1, 2, 3, 4, 5]
    assert rfm(customer(last=date(2026, 10, 1)), TODAY, lines).recency == 5


def test_scoring_yaml_asks_for_quantiles_and_from_how_many_customers():
    chosen = validated(RfmThresholds, {"scores_by": "quantiles", "quantiles_from": 500})
    assert (chosen.scores_by, chosen.quantiles_from) == ("quantiles", 500)
    assert (FIXED.scores_by, FIXED.quantiles_from) == ("thresholds", 100)
    for wrong in ({"scores_by": "deciles"}, {"quantiles_from": 1}):
        with pytest.raises(ValueError, match=r"scores_by|quantiles_from"):
            validated(RfmThresholds, wrong)


def test_by_quintiles_a_customer_is_reviewed_on_the_first_of_each_month_and_the_day_it_lapses():
    scoring = CustomerScoring(rfm=RfmThresholds(scores_by="quantiles"))
    lines = quantile_lines(counted(*[customer(orders=n % 4 + 1) for n in range(10)]), TODAY, FIXED, at_least=10)
    recent = customer(last=date(2026, 11, 20))
    assert next_review_day(recent, TODAY, scoring, lines) == date(2027, 1, 1)
    lapsing = customer(last=date(2026, 6, 20))  # lapses 180 days after: 17 December
    assert next_review_day(lapsing, TODAY, scoring, lines) == date(2026, 12, 17)
    # Below `quantiles_from` the fixed lines score, and their days come too.
    assert next_review_day(recent, TODAY, scoring, scoring.rfm) == date(2026, 12, 21)


def test_by_quintiles_each_customer_has_its_own_day_of_the_month():
    days = [monthly_day(f"{n:032x}") for n in range(2_000)]
    assert set(days) == set(range(1, 29))
    assert max(days.count(day) for day in set(days)) < 2_000 / 28 * 1.5  # spread, not piled on the first
    scoring = CustomerScoring(rfm=RfmThresholds(scores_by="quantiles"))
    lines = quantile_lines(counted(*[customer(orders=n % 4 + 1) for n in range(10)]), TODAY, FIXED, at_least=10)
    recent = customer(last=date(2026, 11, 20))
    assert next_review_day(recent, TODAY, scoring, lines, monthly_day=12) == date(2026, 12, 12)
    assert next_review_day(recent, TODAY, scoring, lines, monthly_day=3) == date(2027, 1, 3)
