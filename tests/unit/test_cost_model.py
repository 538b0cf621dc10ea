"""The cost benchmark's arithmetic: the price list it bills at, and DynamoDB's request-unit rules."""

from __future__ import annotations

import pytest

from bench.cost import Amounts, PriceList, split
from bench.units import read_units, write_units


@pytest.fixture(scope="module")
def prices() -> PriceList:
    return PriceList.load()


def test_every_price_and_assumption_names_its_source(prices):
    assert {"api_gateway_request", "lambda_request", "lambda_arm64_gb_second", "dynamodb_write_unit",
            "dynamodb_read_unit", "sqs_request", "ses_email", "scheduler_invocation"} <= set(prices.prices)
    sources = [price.source for price in prices.prices.values()] + [a.source for a in prices.assumptions.values()]
    assert all(source.startswith("https://") and "amazon" in source for source in sources)
    assert all(price.usd > 0 and price.per > 0 for price in prices.prices.values())


def test_usage_is_billed_at_the_price_per_its_unit(prices):
    bill = prices.bill(Amounts({"ses_email": 1000, "api_gateway_request": 2_000_000}))
    assert bill["ses_email"] == pytest.approx(0.10)
    assert bill["api_gateway_request"] == pytest.approx(2.00)


def test_usage_without_a_price_is_an_error_not_free(prices):
    with pytest.raises(KeyError, match="usage without a price"):
        prices.bill(Amounts({"ec2_hours": 1}))


def test_observability_is_told_apart_from_running_the_product():
    assert split({"ses_email": 1.0, "xray_trace": 0.25, "logs_gb_ingested": 0.5}) == (1.0, 0.75)


def test_writes_are_billed_per_started_kilobyte_and_reads_per_started_four():
    assert [write_units(size) for size in (0, 1024, 1025, 3000)] == [1, 1, 2, 3]
    assert read_units(4096, consistent=True) == 1 and read_units(4097, consistent=True) == 2
    assert read_units(100, consistent=False) == 0.5  # an eventually consistent read costs half


def test_a_global_index_adds_a_write_to_put_update_or_delete_its_entry_and_two_when_its_key_moves():
    from bench.cost import Stored, index_writes

    absent = Stored(0, {"due": None, "by_rank": None})
    due_only = Stored(700, {"due": ("a", "t1"), "by_rank": None})
    rescheduled = Stored(700, {"due": ("a", "t2"), "by_rank": None})
    assert index_writes(absent, absent) == 0  # an item no index holds
    assert index_writes(absent, due_only) == 1  # put into the index
    assert index_writes(due_only, due_only) == 1  # its projected attributes rewritten
    assert index_writes(due_only, rescheduled) == 2  # delete the old entry, put the new one
    assert index_writes(due_only, absent) == 1  # deleted from the index
    assert index_writes(Stored(1500, {"due": ("a", "t1"), "by_rank": None}), rescheduled) == 4  # 2 KB entries
