"""The cost benchmark's arithmetic: the price list it bills at, and DynamoDB's request-unit rules."""

from __future__ import annotations

import pytest

from bench.cost import Amounts, PriceList, line_name, split
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


def test_every_price_has_a_line_name_of_its_own_in_the_cost_tables(prices):
    names = [line_name(prices, name) for name in prices.prices]
    assert len(set(names)) == len(names)


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


def test_a_global_index_writes_only_when_an_entrys_keys_or_projected_attributes_change():
    from bench.cost import IndexEntry, Stored, index_writes

    def entry(due_sk, sequence="step-1", size=700):
        return IndexEntry(("a", due_sk), sequence, size)

    absent = Stored(0, {"due": None, "by_rank": None})
    due_only = Stored(1500, {"due": entry("t1"), "by_rank": None})
    rescored = Stored(1600, {"due": entry("t1"), "by_rank": None})  # the profile changed, not what is projected
    advanced = Stored(1500, {"due": entry("t1", "step-2"), "by_rank": None})
    rescheduled = Stored(1500, {"due": entry("t2"), "by_rank": None})
    assert index_writes(absent, absent) == 0  # an item no index holds
    assert index_writes(absent, due_only) == 1  # put into the index
    assert index_writes(due_only, rescored) == 0  # nothing the index holds changed
    assert index_writes(due_only, advanced) == 1  # its projected attributes rewritten
    assert index_writes(due_only, rescheduled) == 2  # delete the old entry, put the new one
    assert index_writes(due_only, absent) == 1  # deleted from the index
    big = Stored(3000, {"due": entry("t1", size=1500), "by_rank": None})
    assert index_writes(big, Stored(3000, {"due": entry("t2", size=1500), "by_rank": None})) == 4  # 2 KB entries


def test_a_month_scales_what_grows_with_leads_and_counts_the_idle_minute_ticks_once(prices):
    from bench.cost import MONTH_MINUTES, fixed_monthly, monthly

    idle_tick = Amounts({"scheduler_invocation": 1, "lambda_request": 1, "dynamodb_read_unit": 3})
    # Given a simulation of 1,000 leads: 2,880 ticks, 3,000 invocations in all, 1,500 emails
    simulated = Amounts({"scheduler_invocation": 2880, "lambda_request": 3000, "dynamodb_read_unit": 9000,
                         "ses_email": 1500})
    fixed = fixed_monthly(prices, Amounts({"kms_key_month": 2}), idle_tick, metrics=12,
                          cold_start=Amounts({"lambda_arm64_gb_second": 0.5}))
    # When it is scaled to 10,000 leads
    month = monthly(simulated, Amounts({"dynamodb_storage_gb_month": 0.01}), 2880, idle_tick, 10, fixed)
    # Then what the leads did is ten times what the simulation did beyond its idle ticks,
    assert month["ses_email"] == 15_000 and month["dynamodb_storage_gb_month"] == pytest.approx(0.1)
    assert month["lambda_request"] == (3000 - 2880) * 10 + MONTH_MINUTES
    assert month["dynamodb_read_unit"] == (9000 - 3 * 2880) * 10 + 3 * MONTH_MINUTES
    # and the fixed part is there once: a tick a minute, idle polls, metrics, the stack, a cold start an hour
    assert month["scheduler_invocation"] == MONTH_MINUTES == 43_200
    assert month["sqs_request"] == 2 * prices.assume("idle_receives_per_queue_month")
    assert (month["cloudwatch_metric_month"], month["kms_key_month"]) == (12, 2)
    assert month["lambda_arm64_gb_second"] == pytest.approx(0.5 * 720 * prices.assume("cold_starts_per_function_hour"))


def test_a_quiet_month_pays_the_stack_the_idle_polls_and_the_dispatchers_tick_but_no_metric(prices):
    from bench.cost import MONTH_MINUTES, lambda_gb_seconds, quiet_monthly

    idle_tick = Amounts({"scheduler_invocation": 1, "lambda_request": 1, "dynamodb_read_unit": 3})
    quiet = quiet_monthly(prices, Amounts({"cloudwatch_alarm_metric_month": 10}), idle_tick,
                          {"dispatcher": 0.2, "scoring": 0.3, "sender": 0.4})
    assert (quiet["cloudwatch_alarm_metric_month"], quiet["scheduler_invocation"]) == (10, MONTH_MINUTES)
    assert quiet["sqs_request"] == 2 * prices.assume("idle_receives_per_queue_month")
    assert quiet.get("cloudwatch_metric_month", 0) == 0
    hours = MONTH_MINUTES // 60 * prices.assume("cold_starts_per_function_hour")
    assert quiet["lambda_arm64_gb_second"] == pytest.approx(lambda_gb_seconds(prices, "dispatcher", 0.2) * hours)
    assert sum(prices.bill(quiet).values()) < 3  # the aim, with ten alarm metrics
