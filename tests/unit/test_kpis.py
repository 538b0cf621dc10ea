"""The console home's daily KPIs: what each activity counts toward, and the periods they are summed over."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from nurture.domain.kpis import DayKpis, count, funnel, kpis_of, period_totals, weekly_trend

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(("attributes", "by_machine", "kpis"), [
    ({"type": "email_open"}, False, ("opened",)),
    ({"type": "email_click"}, False, ("clicked",)),
    ({"type": "email_click"}, True, ()),  # a click burst: a mail scanner's
    ({"type": "email_open", "bot": True}, False, ()),
    ({"type": "email_open", "source": "ses"}, False, ()),  # SES's report of what our pixel recorded
    ({"type": "form_submit", "form_id": "contact"}, False, ("conversions",)),
    ({"type": "form_submit", "form_kind": "import"}, False, ()),  # a list import converts nothing
    ({"type": "email_sent"}, False, ("sent",)),
    ({"type": "email_bounced", "bounce_type": "Permanent"}, False, ("bounced",)),
    ({"type": "email_bounced", "bounce_type": "Transient"}, False, ()),  # a full mailbox: not a hard bounce
    ({"type": "email_complained"}, False, ("complained",)),
    ({"type": "unsubscribe"}, False, ("unsubscribed",)),
    ({"type": "preferences", "left": ["newsletter"]}, False, ("unsubscribed",)),
    ({"type": "preferences"}, False, ()),
    ({"type": "sales_feedback", "outcome": "accepted"}, False, ("accepted",)),
    ({"type": "sales_feedback", "outcome": "won"}, False, ("accepted", "won")),  # taken on first, as the report
    ({"type": "sales_feedback", "outcome": "won", "stage_before": "accepted"}, False, ("won",)),  # taken on before
    ({"type": "sales_feedback", "outcome": "lost"}, False, ("accepted",)),
    ({"type": "sales_feedback", "outcome": "lost", "stage_before": "accepted"}, False, ()),
    ({"type": "sales_feedback", "outcome": "rejected"}, False, ()),
    ({"type": "page_view"}, False, ()),
])
def test_each_activity_counts_toward_its_kpis_and_machines_count_for_nothing(attributes, by_machine, kpis):
    assert kpis_of(attributes, by_machine) == kpis


def test_an_event_counts_on_its_day_in_the_marketers_time_zone():
    days: DayKpis = {}
    count(days, "opened", datetime(2026, 12, 4, 15, 30, tzinfo=UTC), TOKYO)  # 00:30 on the 5th in Tokyo
    count(days, "opened", datetime(2026, 12, 4, 14, 59, tzinfo=UTC), TOKYO)

    assert days == {"2026-12-05": {"opened": 1}, "2026-12-04": {"opened": 1}}


def test_periods_are_the_seven_and_twenty_eight_days_up_to_today_and_those_before_them():
    today = date(2026, 12, 5)
    counted = [(day, {"sent": sent}) for day, sent in (
        ("2026-12-05", 1), ("2026-11-29", 2), ("2026-11-28", 4), ("2026-11-08", 8), ("2026-11-07", 16),
        ("2026-10-11", 32), ("2026-10-10", 64))]

    totals = period_totals(counted, today)

    assert {name: period["sent"] for name, period in totals.items()} == {
        "this_week": 3, "previous_week": 4, "this_month": 15, "previous_month": 48}


def test_the_trend_sums_each_of_the_last_weeks_oldest_first():
    today = date(2026, 12, 5)
    trend = weekly_trend([("2026-12-05", {"new_leads": 1}), ("2026-11-29", {"new_leads": 2}),
                          ("2026-11-28", {"new_leads": 4}), ("2026-10-01", {"new_leads": 99})], today, 3)

    assert [(week["from"], week["new_leads"]) for week in trend] == [
        ("2026-11-15", 0), ("2026-11-22", 4), ("2026-11-29", 3)]


def test_the_funnel_gives_each_stage_its_share_of_the_stage_before():
    stages = funnel({"new_leads": 200, "handoffs": 20, "accepted": 15, "won": 0, "sent": 900})

    assert [(s["stage"], s["count"], s["of_previous"]) for s in stages] == [
        ("new_leads", 200, None), ("handoffs", 20, 0.1), ("accepted", 15, 0.75), ("won", 0, 0.0)]
    # Nothing in the stage before: no share.
    assert [s["of_previous"] for s in funnel({"handoffs": 3})] == [None, None, 0.0, None]
