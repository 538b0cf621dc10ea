"""The day's KPIs the console's home shows, counted as the scorer applies each new activity: one counter item
per day (in the marketer's time zone), one write per batch and day.

Counted from the stream, so a page view of the home reads a month in one Query instead of walking the table as
`nurture report` does. Counts are of events (an email opened twice is two opens; "sent" is every email, step,
campaign or asked-for, where the report's step KPIs count step emails only), at most once each in the normal
run; a batch the stream retries after a failure may count again the events of its leads whose score it did not
change (the report, computed from the records themselves, is the exact figure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nurture.domain.sales.performance import ACCEPTED

# In the order the home shows them.
KPIS = ("new_leads", "conversions", "handoffs", "accepted", "won", "sent", "opened", "clicked", "unsubscribed",
        "bounced", "complained")
EMAIL_KPIS = {"email_sent": "sent", "email_complained": "complained", "unsubscribe": "unsubscribed",
              "opt_out": "unsubscribed"}
DayKpis = dict[str, Counter[str]]  # YYYY-MM-DD -> KPI -> count


# The home's funnel: a period's new leads, those handed to sales, taken on by sales, won.
FUNNEL = ("new_leads", "handoffs", "accepted", "won")


def kpis_of(attributes: dict[str, Any], by_machine: bool) -> tuple[str, ...]:
    """The KPIs an activity counts toward. People's opens and clicks only: a mail scanner's (`bot`, or a
    click burst: `by_machine`) and SES's own report of an open or click our pixel and link already recorded
    count nothing; a list import converts nothing."""
    kind = attributes.get("type")
    if kind in ("email_open", "email_click"):
        if by_machine or attributes.get("bot") or attributes.get("source") == "ses":
            return ()
        return ("opened",) if kind == "email_open" else ("clicked",)
    if kind == "form_submit":
        return () if attributes.get("form_kind") == "import" else ("conversions",)
    if kind == "preferences" and attributes.get("left"):
        return ("unsubscribed",)
    if kind == "sales_feedback":  # as the report counts it: won and lost leads were taken on, once
        outcome = attributes.get("outcome")
        taken_on = ("accepted",) if outcome in ACCEPTED and attributes.get("stage_before") != "accepted" else ()
        return (*taken_on, "won") if outcome == "won" else taken_on
    if kind == "email_bounced":  # a hard bounce only, as the deliverability guard counts it
        return ("bounced",) if attributes.get("bounce_type") == "Permanent" else ()
    return (EMAIL_KPIS[str(kind)],) if str(kind) in EMAIL_KPIS else ()


def day_of(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def count(days: DayKpis, kpi: str, moment: datetime, zone: ZoneInfo) -> None:
    days.setdefault(day_of(moment, zone), Counter())[kpi] += 1


def period_totals(days: Iterable[tuple[str, dict[str, int]]], today: date) -> dict[str, dict[str, int]]:
    """This week (the seven days up to today), the week before, this month (the 28 days up to today) and the
    28 before, from each day's counters."""
    spans = {"this_week": (0, 7), "previous_week": (7, 14), "this_month": (0, 28), "previous_month": (28, 56)}
    totals = {name: dict.fromkeys(KPIS, 0) for name in spans}
    for day, counters in days:
        age = (today - date.fromisoformat(day)).days
        for name, (start, end) in spans.items():
            if start <= age < end:
                for kpi in KPIS:
                    totals[name][kpi] += int(counters.get(kpi, 0))
    return totals


def weekly_trend(days: Iterable[tuple[str, dict[str, int]]], today: date, weeks: int) -> list[dict[str, Any]]:
    """Each of the last `weeks` seven-day spans ending today, oldest first: its first day and its counters."""
    sums = [dict.fromkeys(KPIS, 0) for _ in range(weeks)]
    for day, counters in days:
        age = (today - date.fromisoformat(day)).days
        if 0 <= age < 7 * weeks:
            week = sums[weeks - 1 - age // 7]
            for kpi in KPIS:
                week[kpi] += int(counters.get(kpi, 0))
    return [{"from": (today - timedelta(days=7 * (weeks - n) - 1)).isoformat(), **week}
            for n, week in enumerate(sums)]


def funnel(totals: dict[str, int]) -> list[dict[str, Any]]:
    """A period's funnel: each stage's count and its share of the stage before (None for the first, or when the
    stage before counted nothing). Counts of the period's events: a lead handed off this month may have come
    last month, so a share can pass 100%."""
    stages: list[dict[str, Any]] = []
    for stage in FUNNEL:
        before = stages[-1]["count"] if stages else 0
        stages.append({"stage": stage, "count": totals.get(stage, 0),
                       "of_previous": round(totals.get(stage, 0) / before, 4) if before else None})
    return stages
