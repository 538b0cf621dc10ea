"""The customers' daily review (issue 24): each customer's RFM scores and CPM segment worked out again when their
purchases changed, and on the days a score or segment moves by time alone, never for every customer.

A customer's review is due at once after a purchase; after a review, on the first day its recency score drops or
its segment lapses with no purchase meanwhile (none once every line is passed; by quintiles, also once a month, on a
day of its own). The due index brings the reviews due
to the dispatcher's tick, a bounded number a tick: the cost follows the customers whose standing can change. A move
from one segment to another is on the lead's timeline (and is scored and enrols like any activity)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from msgspec import Struct, field
from msgspec.structs import replace

from nurture import keys
from nurture.config.customers import CustomerScoring
from nurture.domain.activity import Activity, new_activity
from nurture.domain.clock import iso
from nurture.domain.customers.distribution import counted_as, moves, quantile_lines
from nurture.domain.customers.next_product import first_days, latest_product, likeliest_next, pair_moves, pairs
from nurture.domain.customers.rfm import CPM_NAMES, CpmSegment, Lines, Purchases, cpm_segment, rfm
from nurture.domain.errors import StoreUnavailable

SEGMENT_MOVE = "customer_segment"  # the activity of a move from one CPM segment to another (or into the first)
NEXT_PRODUCT = "customer_next_product"  # the activity of a customer's likeliest next product changing to another
REVIEWS_PER_TICK = 200  # a tick's share: a day's moves of 100,000 customers drain within the hour


class DueReview(Struct, frozen=True):
    lead_id: str
    due_sk: str  # as read: the review is rewritten only if no purchase moved it meanwhile


class Bought(Struct, frozen=True):
    """One stored purchase, as the review reads it."""

    on: date
    amount: int
    product: str = ""


class Standing(Struct, frozen=True):
    """What the profile's `customer` holds after a review: the summary, the scores and the segment."""

    purchases: Purchases
    recency: int
    frequency: int
    monetary: int
    segment: CpmSegment
    reviewed_on: date
    firsts: dict[str, date]  # its newest products' first days: the product pairs it is counted with
    next_product: str | None = None

    @property
    def counted(self) -> str:
        """The buckets of the customers' distribution this customer is counted in."""
        return counted_as(self.purchases)

    def to_item(self) -> dict[str, Any]:
        return {"first": self.purchases.first.isoformat(), "last": self.purchases.last.isoformat(),
                "orders": self.purchases.count, "total": self.purchases.total, "recency": self.recency,
                "frequency": self.frequency, "monetary": self.monetary, "segment": self.segment,
                "reviewed_on": self.reviewed_on.isoformat(), "counted": self.counted,
                "firsts": {product: day.isoformat() for product, day in self.firsts.items()},
                **({"next_product": self.next_product} if self.next_product else {})}


class Recount(Struct, frozen=True):
    """What a saved review moves beside its customer: the distribution's counters, and for each earlier product
    the counts of the products bought after it."""

    distribution: dict[str, int]
    next_products: dict[str, dict[str, int]]


class CustomerReviews(Protocol):
    def customers_due(self, until: str, limit: int) -> list[DueReview]: ...

    def customer(self, lead_id: str) -> tuple[dict[str, Any], list[Bought]] | None:
        """The profile's `customer` (empty before a first review) and every purchase; None when the lead is
        gone."""
        ...

    def distribution(self) -> dict[str, int]:
        """The customers' distribution's counters (domain.customers.distribution)."""
        ...

    def next_products(self, product: str) -> dict[str, int]:
        """How many customers bought each product after `product`."""
        ...

    def save_review(self, due: DueReview, standing: Standing, told: list[Activity], next_at: str | None,
                    purchases_read: int, counted_before: str | None, recount: Recount) -> bool:
        """The standing on the profile, the activities `told` (a move, a new next product), the next review (none:
        no more) and the `recount`, only while the review is as read: its entry unchanged, no purchase recorded
        since the `purchases_read` it saw, and the customer counted as it was, `counted_before` (None: not yet).
        False otherwise: the review is due again."""
        ...

    def drop_review(self, due: DueReview) -> None:
        """A review with nothing left to review (its lead erased), unless a purchase moved it since it was read."""
        ...


class ReviewResult(Struct):
    reviewed: int = 0
    moved: int = 0
    failed: list[str] = field(default_factory=list)  # lead ids tried again next tick


def standing_of(bought: list[Bought], today: date, scoring: CustomerScoring, lines: Lines | None = None) -> Standing:
    """The customer's standing today, its RFM scores by `lines` (scoring.yaml's thresholds unless given)."""
    days = [purchase.on for purchase in bought]
    purchases = Purchases(first=min(days), last=max(days), count=len(bought), total=sum(p.amount for p in bought))
    scores = rfm(purchases, today, lines or scoring.rfm)
    return Standing(purchases, scores.recency, scores.frequency, scores.monetary,
                    cpm_segment(purchases, today, scoring.cpm), today,
                    first_days((p.on, p.product) for p in bought))


def next_review_day(purchases: Purchases, today: date, scoring: CustomerScoring, lines: Lines | None = None,
                    monthly_day: int = 1) -> date | None:
    """The first day after `today` when, with no purchase meanwhile, the recency score drops (the day after each
    fixed recency line) or the segment lapses; None when none is left. By quintiles, a customer's scores move when
    the lines do, as the others buy: it is reviewed again each month too, on its `monthly_day` (1 to 28, spread
    over the customers so that a day's purchases never queue behind the whole month's reviews)."""
    fixed = lines is None or lines is scoring.rfm
    offsets = [*(limit + 1 for limit in scoring.rfm.recency_days if fixed), scoring.cpm.lapsed_after_days]
    days = [purchases.last + timedelta(days=offset) for offset in offsets]
    if scoring.rfm.scores_by == "quantiles":
        this_month = today.replace(day=monthly_day)
        days += [this_month, (this_month.replace(day=1) + timedelta(days=32)).replace(day=monthly_day)]
    return min((day for day in days if day > today), default=None)


def monthly_day(lead_id: str) -> int:
    """A customer's own day of the month for its monthly review, 1 to 28."""
    return 1 + keys.bucket(lead_id, 28)


def review_customers(store: CustomerReviews, now: datetime, scoring: CustomerScoring, zone: str,
                     retention_days: int, limit: int = REVIEWS_PER_TICK) -> ReviewResult:
    """The reviews due by now; one that cannot be done now stays due for the next tick."""
    result = ReviewResult()
    tick = _Tick(store, now, ZoneInfo(zone), scoring, retention_days)
    for due in store.customers_due(iso(now), limit):
        try:
            saved, moved = tick.review(due)
        except StoreUnavailable:
            result.failed.append(due.lead_id)
            continue
        result.reviewed += saved
        result.moved += saved and moved
    return result


class _Tick:
    """One tick's reviews, and what they share: RFM's lines and what was bought after each product, read once."""

    def __init__(self, store: CustomerReviews, now: datetime, zone: ZoneInfo, scoring: CustomerScoring,
                 retention_days: int) -> None:
        self._store, self._now, self._zone, self._scoring = store, now, zone, scoring
        self._retention_days = retention_days
        self._today = now.astimezone(zone).date()
        self._lines: Lines | None = None
        self._followers: dict[str, dict[str, int]] = {}

    def lines(self) -> Lines:
        if self._lines is None:
            rfm_lines = self._scoring.rfm
            self._lines = rfm_lines if rfm_lines.scores_by == "thresholds" else quantile_lines(
                self._store.distribution(), self._today, rfm_lines, rfm_lines.quantiles_from)
        return self._lines

    def next_product(self, bought: list[Bought]) -> str | None:
        latest = latest_product((purchase.on, purchase.product) for purchase in bought)
        if latest is None:
            return None
        if latest not in self._followers:
            self._followers[latest] = self._store.next_products(latest)
        return likeliest_next(self._followers[latest], {purchase.product for purchase in bought},
                              self._scoring.next_product_from)

    def review(self, due: DueReview) -> tuple[bool, bool]:
        """Whether the review was saved, and whether its customer moved segment."""
        found = self._store.customer(due.lead_id)
        if found is None or not found[1]:  # erased (or its purchases with it): nothing to review
            self._store.drop_review(due)
            return False, False
        current, bought = found
        standing = replace(standing_of(bought, self._today, self._scoring, self.lines()),
                           next_product=self.next_product(bought))
        told, moved = [], current.get("segment") != standing.segment
        if moved:
            told.append(new_activity(SEGMENT_MOVE, self._now, self._retention_days, {
                "lead_id": due.lead_id, "from": current.get("segment"), "to": standing.segment,
                "rfm": f"R{standing.recency}F{standing.frequency}M{standing.monetary}"}))
        if standing.next_product and current.get("next_product") != standing.next_product:
            told.append(new_activity(NEXT_PRODUCT, self._now, self._retention_days, {
                "lead_id": due.lead_id, "product": standing.next_product}, offset=len(told)))
        next_day = next_review_day(standing.purchases, self._today, self._scoring, self.lines(),
                                   monthly_day(due.lead_id))
        next_at = None if next_day is None else iso(datetime.combine(next_day, time(0), self._zone))
        counted_with = {str(product): date.fromisoformat(str(day))
                        for product, day in (current.get("firsts") or {}).items()}
        recount = Recount(moves(current.get("counted"), standing.counted),
                          pair_moves(pairs(counted_with), pairs(standing.firsts)))
        saved = self._store.save_review(due, standing, told, next_at, len(bought), current.get("counted"), recount)
        return saved, moved


def customer_view(profile: dict[str, Any]) -> dict[str, Any] | None:
    """A lead's standing as a customer for the lead view, or None for a lead that has bought nothing and was not
    won (a won lead is a customer before its first purchase is recorded)."""
    if "customer_since" not in profile and profile.get("stage") != "won":
        return None
    standing = profile.get("customer") or {}
    segment = standing.get("segment")
    return {"since": profile.get("customer_since"), "segment": segment,
            "segment_name": next((name for known, name in CPM_NAMES.items() if known == segment), None),
            "rfm": {name: int(standing[name]) for name in ("recency", "frequency", "monetary")} if standing else None,
            "orders": int(standing.get("orders", 0)), "total": int(standing.get("total", 0)),
            "first_purchase": standing.get("first"), "last_purchase": standing.get("last"),
            "products": sorted(profile.get("products") or ()), "next_product": standing.get("next_product")}
