"""The report's customer section (issue 24): customers per CPM segment at the period's end and 30 days before
(the migration matrix), revenue per segment, and the repeat purchases that followed a customer's click on an
email. Pure: the stored purchases in, numbers out. Segments are worked out again from the purchases as of each
day, so a past period reads the same whenever the report is made."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct

from nurture.config.customers import CustomerScoring
from nurture.domain.customers.review import Bought, standing_of
from nurture.domain.customers.rfm import CPM_NAMES

MIGRATION_DAYS = 30  # the matrix compares each customer's segment at the period's end with this many days before
ATTRIBUTION_DAYS = 30  # a purchase this soon after a customer's click on an email is that email's repeat purchase
NEW = "new"  # the matrix's row of customers who had bought nothing 30 days before


class Click(Struct, frozen=True):
    """A person's clicks on one email (machines' left out), as the report's email cohort has them."""

    sequence: str  # "campaign" for a campaign's email
    step: str  # the campaign's id for a campaign's email
    lead_id: str
    clicked_at: list[datetime]


def segments_on(purchases: dict[str, list[Bought]], day: date, scoring: CustomerScoring) -> dict[str, str]:
    """Each lead's CPM segment as of `day`, from its purchases up to then (leads with none then are left out)."""
    found: dict[str, str] = {}
    for lead_id, bought in purchases.items():
        before = [purchase for purchase in bought if purchase.on <= day]
        if before:
            found[lead_id] = standing_of(before, day, scoring).segment
    return found


def customer_report(purchases: dict[str, list[Bought]], monthly: dict[str, dict[str, int]], clicks: Iterable[Click],
                    start: date, end: date, zone: ZoneInfo, scoring: CustomerScoring) -> dict[str, Any]:
    """`purchases` by lead (an erased lead's are gone); `monthly`: the anonymous orders and revenue by month
    (YYYY-MM), which erasure keeps."""
    now, before = segments_on(purchases, end, scoring), segments_on(purchases, end - timedelta(days=MIGRATION_DAYS),
                                                                    scoring)
    migration: dict[str, Counter[str]] = defaultdict(Counter)
    for lead_id, segment in now.items():
        migration[before.get(lead_id, NEW)][segment] += 1
    revenue: Counter[str] = Counter()
    for lead_id, bought in purchases.items():
        if lead_id in now:
            revenue[now[lead_id]] += sum(p.amount for p in bought if start <= p.on <= end)
    counted_before, counted_now = Counter(before.values()), Counter(now.values())
    return {
        "customers": len(now),
        "by_segment": [{"segment": segment, "name": name, "now": counted_now[segment],
                        "days_before": counted_before[segment], "revenue_in_period": revenue[segment]}
                       for segment, name in CPM_NAMES.items()],
        "migration_days": MIGRATION_DAYS,
        "migration": {row: dict(sorted(columns.items())) for row, columns in sorted(migration.items())},
        "monthly": [{"month": month, **totals} for month, totals in sorted(monthly.items())
                    if start.isoformat()[:7] <= month <= end.isoformat()[:7]],
        "attribution_days": ATTRIBUTION_DAYS,
        "repeat_purchases": _after_clicks(purchases, clicks, lambda at: start <= at.astimezone(zone).date() <= end,
                                          zone),
    }


def _after_clicks(purchases: dict[str, list[Bought]], clicks: Iterable[Click],
                  in_period: Callable[[datetime], bool], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Per email (a sequence's step, a campaign): the customers who clicked it and the purchases they made within
    ATTRIBUTION_DAYS of their first click. Only customers count (a purchase before the click): a repeat purchase
    is a customer's."""
    rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for click in clicks:
        bought = purchases.get(click.lead_id, [])
        first = min((at for at in click.clicked_at if in_period(at)), default=None)
        day = first.astimezone(zone).date() if first is not None else None
        if day is None or not any(p.on < day for p in bought):
            continue
        after = [p for p in bought if day <= p.on <= day + timedelta(days=ATTRIBUTION_DAYS)]
        counts = rows[(click.sequence, click.step)]
        counts["customers_clicked"] += 1
        counts["purchases"] += len(after)
        counts["revenue"] += sum(p.amount for p in after)
    return [{"sequence": sequence, "step": step, **{name: counts[name] for name in
                                                     ("customers_clicked", "purchases", "revenue")}}
            for (sequence, step), counts in sorted(rows.items())]
