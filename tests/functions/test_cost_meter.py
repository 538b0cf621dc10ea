"""The cost benchmark's meter on the real handlers: what one tracking hit and one idle tick use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.cost import FIRST_OF_A_DAY, IDLE_TICK, PAGE_BATCH
from nurture.config import load_config
from nurture.domain.clock import utc_now
from tests.conftest import CONFIG_DIR, REPO

MEASURE = ("import json; from bench import cost; "
           "fresh = cost.on_a_fresh_account(cost.PriceList.load()); "
           "print(json.dumps({'usage': fresh.usage, 'calls': fresh.calls, 'stored': fresh.stored_bytes}))")


@pytest.fixture(scope="module")
def fresh() -> dict:
    # Its own interpreter: the scenario installs the emulator's patches and hooks into every botocore session.
    done = subprocess.run([sys.executable, "-c", MEASURE], cwd=REPO, text=True, capture_output=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_anonymous_page_view_is_one_request_one_invocation_one_read_and_one_transaction(fresh):
    usage = fresh["usage"]["anonymous visitor"]
    assert fresh["calls"]["anonymous visitor"] == {"tracking: dynamodb GetItem": 1.0,
                                                   "tracking: dynamodb TransactWriteItems": 1.0}
    assert usage["api_gateway_request"] == 1 and usage["lambda_request"] == 1
    # Whether the browser is a lead's (an eventually consistent read: half a unit), then the visitor's condition
    # check, its count for the minute and the event: three small items, two units each in a transaction
    assert usage["dynamodb_write_unit"] == 6 and usage["dynamodb_read_unit"] == 0.5
    assert usage["lambda_arm64_gb_second"] > 0
    # Only the access log's line, in the Infrequent Access class: no metric (issue 20's budget), no line of the
    # function's own for a hit stored (Lambda's own INFO records are not sent at its WARN level), no X-Ray trace
    # with tracing off, as shipped.
    assert usage.get("logs_gb_ingested", 0) == 0 and usage["logs_ia_gb_ingested"] * 1024**3 == 250
    assert usage.get("xray_trace", 0) == 0


def test_an_identified_page_view_goes_to_its_lead_in_one_transaction_and_writes_no_index_entry(fresh):
    usage = fresh["usage"]["identified visitor, scored one at a time"]
    calls = fresh["calls"]["identified visitor, scored one at a time"]
    assert calls["tracking: dynamodb GetItem"] == 1 and calls["tracking: dynamodb TransactWriteItems"] == 1
    # The tracking transaction (6) and the profile's update (2, under 2 KB): the indexes project neither the score
    # nor the activity; the by_rank entry moves only when the total does (each move a delete and a put of a
    # small entry), and a ledger entry is written for the hits that earn points.
    assert usage["dynamodb_write_unit"] < 9


def test_an_identified_page_view_is_scored_too_and_batching_shares_the_scoring(fresh):
    alone = fresh["usage"]["identified visitor, scored one at a time"]
    batched = fresh["usage"]["identified visitor, scored in batches of 100"]
    assert alone["lambda_request"] == 2  # tracking, then scoring with a batch of one
    assert batched["lambda_request"] == pytest.approx(1.01)
    assert fresh["calls"]["identified visitor, scored one at a time"]["scoring: dynamodb BatchGetItem"] == 1
    assert batched["dynamodb_read_unit"] < alone["dynamodb_read_unit"]
    assert batched["lambda_arm64_gb_second"] < alone["lambda_arm64_gb_second"]


def test_an_idle_tick_reads_only_the_indexes_of_what_may_be_due(
        fresh):
    usage = fresh["usage"][IDLE_TICK]
    # BatchGetItem: the counts of the shipped config's seminar sessions still to come (for free seats with people
    # waiting), if any are, as the benchmark runs on today's date; none once they have all begun.
    events = load_config(CONFIG_DIR).events.events.values()
    upcoming = sum(1 for event in events for session in event.sessions if utc_now() < event.starts_at(session))
    seats = {"dispatcher: dynamodb BatchGetItem": 1.0} if upcoming else {}
    assert fresh["calls"][IDLE_TICK] == {"dispatcher: dynamodb GetItem": 1.0, "dispatcher: dynamodb Query": 10.0,
                                         **seats}
    assert usage["scheduler_invocation"] == 1 and usage["lambda_request"] == 1
    # A consistent read (the pause), and ten eventually consistent query pages (four lead shards, the campaigns,
    # the held campaign emails, the double opt-in leads whose time ran out, the sales verdicts overdue, the customers'
    # reviews due, the seminar reminders due); half a unit per upcoming session's counts, read whether or not they
    # exist.
    assert usage["dynamodb_read_unit"] == 6.0 + 0.5 * upcoming
    assert "api_gateway_request" not in usage and "dynamodb_write_unit" not in usage


def test_the_first_hit_of_a_day_starts_the_leads_daily_counters_again_and_costs_more_than_a_later_one(fresh):
    later, first = fresh["usage"]["identified visitor, scored one at a time"], fresh["usage"][FIRST_OF_A_DAY]
    assert first["lambda_request"] == 2
    assert first["dynamodb_write_unit"] > later["dynamodb_write_unit"]


def test_what_a_hit_leaves_in_the_table_is_measured_and_a_page_batch_stores_least_per_event(fresh):
    stored = {kind: size for kind, size in fresh["stored"].items() if kind != IDLE_TICK}
    assert set(stored) == set(fresh["usage"]) - {IDLE_TICK}
    # An event is at least its own item's overhead; the batch's five share one item, key and overhead.
    assert all(size > 100 for kind, size in stored.items() if kind != PAGE_BATCH)
    assert 0 < stored[PAGE_BATCH] < min(size for kind, size in stored.items() if kind != PAGE_BATCH)
