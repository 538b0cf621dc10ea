"""The report's customer section (issue 24): segments at the period's end and 30 days before, the migration
between them, revenue per segment, and repeat purchases within 30 days of a customer's click."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from nurture.config.customers import CustomerScoring
from nurture.domain.customers.report import Click, customer_report
from nurture.domain.customers.review import Bought

TOKYO = ZoneInfo("Asia/Tokyo")
START, END = date(2026, 11, 1), date(2026, 11, 30)
PURCHASES = {
    # a first-time customer of April, lapsed (初回離脱客) 30 days before the end, back in the period: よちよち客
    "returning": [Bought(date(2026, 4, 1), 5_000), Bought(date(2026, 11, 20), 8_000)],
    # one purchase in the period: new -> 初回客
    "new": [Bought(date(2026, 11, 10), 200_000)],
    # two purchases in the summer, ¥150,000: 流行客 then and now (it lapses on 2026-12-28)
    "trendy": [Bought(date(2026, 6, 1), 50_000), Bought(date(2026, 7, 1), 100_000)],
    "after_end": [Bought(date(2026, 12, 3), 1_000)],  # not yet a customer at the period's end
}


def report(clicks: list[Click] | None = None) -> dict:
    return customer_report(PURCHASES, {"2026-10": {"orders": 3, "revenue": 9_000},
                                       "2026-11": {"orders": 2, "revenue": 208_000},
                                       "2026-12": {"orders": 1, "revenue": 1_000}},
                           clicks or [], START, END, TOKYO, CustomerScoring())


def test_customers_are_counted_per_segment_now_and_30_days_before_with_the_moves_between():
    section = report()
    assert section["customers"] == 3
    by_segment = {row["segment"]: (row["days_before"], row["now"], row["revenue_in_period"])
                  for row in section["by_segment"]}
    assert by_segment["first_time"] == (0, 1, 200_000)
    assert by_segment["toddler"] == (0, 1, 8_000)
    assert by_segment["trendy"] == (1, 1, 0)
    assert by_segment["lapsed_first_time"] == (1, 0, 0)
    assert section["migration"] == {"lapsed_first_time": {"toddler": 1}, "new": {"first_time": 1},
                                    "trendy": {"trendy": 1}}
    assert [row["name"] for row in section["by_segment"]][:2] == ["初回客", "よちよち客"]


def test_the_months_of_the_period_show_the_anonymous_totals_erasure_keeps():
    assert report()["monthly"] == [{"month": "2026-11", "orders": 2, "revenue": 208_000}]


def test_a_repeat_purchase_within_30_days_of_a_customers_click_counts_for_the_email():
    clicked = datetime(2026, 11, 15, 3, tzinfo=UTC)
    section = report([
        Click("campaign", "autumn_sale", "returning", [clicked, datetime(2026, 11, 16, tzinfo=UTC)]),
        Click("campaign", "autumn_sale", "new", [datetime(2026, 11, 5, tzinfo=UTC)]),  # no purchase before: no repeat
        Click("cross_sell", "training", "trendy", [clicked]),  # a customer who clicked and bought nothing since
    ])
    assert section["repeat_purchases"] == [
        {"sequence": "campaign", "step": "autumn_sale", "customers_clicked": 1, "purchases": 1, "revenue": 8_000},
        {"sequence": "cross_sell", "step": "training", "customers_clicked": 1, "purchases": 0, "revenue": 0}]
    late = report([Click("campaign", "spring", "returning", [datetime(2026, 10, 1, tzinfo=UTC)])])
    assert late["repeat_purchases"] == []  # the click is outside the period
