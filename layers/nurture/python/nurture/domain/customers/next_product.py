"""What similar customers bought next (issue 24): for each product, how many customers bought each other product
after it, and the likeliest next product of a customer, for cross-sell segments and emails.

A customer follows product A with product B when it first bought B on a day after it first bought A. Each
customer's pairs are counted once: its review moves the counts by what changed since the pairs it was counted with
(kept on its standing), in the transaction that saves the review, as the customers' distribution is moved. A
customer's next product is what most customers bought after the product of its latest purchase, among what it does
not own, once enough customers did (`next_product_from`); None otherwise."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

PRODUCTS_FOLLOWED = 20  # a customer's newest distinct products whose pairs are counted: bounds a review's writes


def first_days(purchases: Iterable[tuple[date, str]]) -> dict[str, date]:
    """The day a customer first bought each of its newest PRODUCTS_FOLLOWED named products, from its purchases
    (day, product): what its standing keeps, from which its pairs are worked out."""
    first: dict[str, date] = {}
    for day, product in sorted(purchases):
        if product and product not in first:
            first[product] = day
    return dict(sorted(first.items(), key=lambda kept: (kept[1], kept[0]))[-PRODUCTS_FOLLOWED:])


def pairs(first: Mapping[str, date]) -> set[tuple[str, str]]:
    """The (earlier, later) product pairs of a customer whose products were first bought on these days."""
    return {(before, after) for before in first for after in first if first[before] < first[after]}


def followed(purchases: Iterable[tuple[date, str]]) -> set[tuple[str, str]]:
    """The (earlier, later) product pairs of one customer's purchases (day, product); unnamed products are left
    out, and only its newest PRODUCTS_FOLLOWED products count."""
    return pairs(first_days(purchases))


def pair_moves(before: set[tuple[str, str]], after: set[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """For each earlier product, what the count of each later one changes by when a customer counted with the pairs
    `before` is counted with `after`; nothing when they are the same."""
    moves: dict[str, dict[str, int]] = defaultdict(dict)
    for earlier, later in after - before:
        moves[earlier][later] = 1
    for earlier, later in before - after:
        moves[earlier][later] = -1
    return dict(moves)


def latest_product(purchases: Iterable[tuple[date, str]]) -> str | None:
    """The product of the customer's latest named purchase (the greatest name on a day with several)."""
    return max(((day, product) for day, product in purchases if product), default=(None, None))[1]


def likeliest_next(counts: Mapping[str, int], owned: set[str], at_least: int) -> str | None:
    """What most customers bought next, among what this customer does not own, once at least `at_least` did (ties:
    the first name)."""
    offered = [(-count, product) for product, count in counts.items() if product not in owned and count >= at_least]
    return min(offered)[1] if offered else None
