"""What similar customers bought next (issue 24): a customer's product pairs, counted once, and the likeliest next
product among what it does not own."""

from __future__ import annotations

from datetime import date

from nurture.domain.customers.next_product import (
    PRODUCTS_FOLLOWED,
    followed,
    latest_product,
    likeliest_next,
    pair_moves,
    pairs,
)

LICENCE, TRAINING, SUPPORT = "在庫分析ライセンス", "研修", "保守サポート"


def test_a_product_first_bought_on_a_later_day_follows_each_bought_before_it():
    purchases = [(date(2026, 1, 5), LICENCE), (date(2026, 3, 1), TRAINING), (date(2026, 3, 1), SUPPORT),
                 (date(2026, 6, 1), LICENCE), (date(2026, 7, 1), "")]  # bought again, and an unnamed product
    assert followed(purchases) == {(LICENCE, TRAINING), (LICENCE, SUPPORT)}  # the same day follows neither way


def test_only_the_newest_products_of_a_customer_are_paired():
    purchases = [(date(2025, 1, 1 + n), f"p{n:02d}") for n in range(PRODUCTS_FOLLOWED + 5)]
    pairs = followed(purchases)
    assert len(pairs) == PRODUCTS_FOLLOWED * (PRODUCTS_FOLLOWED - 1) // 2
    assert not any("p00" in pair for pair in pairs)


def test_a_review_moves_only_the_pairs_that_changed():
    before = pairs({LICENCE: date(2026, 1, 5), TRAINING: date(2026, 3, 1)})  # as a standing keeps them
    assert before == {(LICENCE, TRAINING)}
    assert pair_moves(before, {(LICENCE, TRAINING)}) == {}
    assert pair_moves(before, {(LICENCE, TRAINING), (LICENCE, SUPPORT), (TRAINING, SUPPORT)}) == {
        LICENCE: {SUPPORT: 1}, TRAINING: {SUPPORT: 1}}
    assert pair_moves(set(), {(LICENCE, TRAINING)}) == {LICENCE: {TRAINING: 1}}
    # An older order of the training imported later: it now came first.
    assert pair_moves(before, {(TRAINING, LICENCE)}) == {LICENCE: {TRAINING: -1}, TRAINING: {LICENCE: 1}}


def test_the_latest_purchase_names_the_product_to_look_after():
    assert latest_product([(date(2026, 1, 5), LICENCE), (date(2026, 3, 1), TRAINING), (date(2026, 4, 1), "")]) \
        == TRAINING
    assert latest_product([(date(2026, 1, 5), "")]) is None


def test_the_next_product_is_what_most_bought_after_among_what_the_customer_lacks_once_enough_did():
    after_licence = {TRAINING: 7, SUPPORT: 4, "eラーニング": 2}
    assert likeliest_next(after_licence, {LICENCE}, at_least=3) == TRAINING
    assert likeliest_next(after_licence, {LICENCE, TRAINING}, at_least=3) == SUPPORT
    assert likeliest_next(after_licence, {LICENCE, TRAINING, SUPPORT}, at_least=3) is None  # 2 are too few
    assert likeliest_next({"b": 3, "a": 3}, set(), at_least=3) == "a"  # a tie: the first name
