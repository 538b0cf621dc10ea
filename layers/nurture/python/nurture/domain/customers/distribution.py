"""The customers' distribution (issue 24): how many customers have each order count, each total spent (in tenths
of a decade: ¥31,623 to ¥39,810 is one bucket) and each month of last purchase, and RFM's quintiles from it.

Each review moves its customer from the buckets it was counted in (the `counted` its standing keeps) to its new
ones, in the transaction that saves the review and only while the standing is as the review read it: the counts
stay exact under retries and concurrent ticks. Erasing a customer takes it out the same way. A customer reviewed
before the distribution existed is counted at its next review.

Quintiles give a fifth of the customers each score: a customer scores 1 plus the whole fifths of the customers
below it, so ties share the lower score (when most customers bought once, once is F1). A customer's scores use the
lines of its review's day; the other customers keep theirs until their own next review."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from nurture.domain.customers.rfm import Lines, Purchases, RfmLines

CUSTOMERS = "n"  # how many customers are counted
NOBODY = 2**62  # a line no customer passes: the score above it goes to nobody
FIFTHS = (1, 2, 3, 4)


def total_bucket(total: int) -> int:
    """A tenth of a decade: 10 ** (bucket / 10) yen and up; -1 for nothing spent."""
    return math.floor(10 * math.log10(total)) if total >= 1 else -1


def counted_as(purchases: Purchases) -> str:
    """The buckets a customer is counted in, as its standing keeps them: orders, total bucket, YYYY-MM."""
    return f"{purchases.count}|{total_bucket(purchases.total)}|{purchases.last:%Y-%m}"


def _counters(counted: str) -> list[str]:
    orders, total, month = counted.split("|")
    return [f"f#{orders}", f"m#{total}", f"r#{month}"]


def moves(before: str | None, after: str) -> dict[str, int]:
    """What each counter changes by when a customer counted as `before` (None: not yet) is counted as `after`;
    nothing when it stays in the same buckets."""
    change: Counter[str] = Counter({CUSTOMERS: 1} if before is None else {})
    change.subtract(_counters(before) if before is not None else [])
    change.update(_counters(after))
    return {counter: by for counter, by in change.items() if by}


def removal(counted: str) -> dict[str, int]:
    """What each counter changes by when a counted customer is erased."""
    return {CUSTOMERS: -1, **dict.fromkeys(_counters(counted), -1)}


def _at_fifths(ascending: list[tuple[Any, int]]) -> list[Any] | None:
    """Where each score from 2 to 5 begins, counted per value: the first value with at least one, two, three, four
    fifths of the customers below it (None where no value has: nobody gets that score); None when nobody is
    counted."""
    everyone = sum(count for _, count in ascending)
    if everyone < 1:
        return None
    lines: list[Any] = []
    below = 0
    for value, count in ascending:
        while len(lines) < len(FIFTHS) and 5 * below >= FIFTHS[len(lines)] * everyone:
            lines.append(value)
        below += count
    return lines + [None] * (len(FIFTHS) - len(lines))


def _kept(counts: Mapping[str, int], prefix: str) -> Iterable[tuple[str, int]]:
    return ((name.removeprefix(prefix), int(count)) for name, count in counts.items()
            if name.startswith(prefix) and int(count) > 0)


def quantile_lines(counts: Mapping[str, int], today: date, fixed: Lines, at_least: int) -> Lines:
    """RFM's lines at the quintiles of the customers counted; the fixed thresholds while fewer than `at_least` are
    counted (a fifth of a handful says nothing)."""
    if int(counts.get(CUSTOMERS, 0)) < at_least:
        return fixed
    orders = _at_fifths(sorted((int(value), count) for value, count in _kept(counts, "f#")))
    totals = _at_fifths(sorted((int(value), count) for value, count in _kept(counts, "m#")))
    months = _at_fifths(sorted(_kept(counts, "r#")))  # the longest ago first, as they score worst
    if orders is None or totals is None or months is None:
        return fixed
    # Recency's lines count days back from today to the first of a line's month: a purchase in that month or later
    # is within it. A score nobody reaches has a line nobody passes.
    return RfmLines(
        recency_days=[-1 if month is None else (today - date.fromisoformat(f"{month}-01")).days
                      for month in reversed(months)],
        frequency=[NOBODY if value is None else value for value in orders],
        monetary=[NOBODY if bucket is None else 0 if bucket < 0 else math.ceil(10 ** (bucket / 10))
                  for bucket in totals])
