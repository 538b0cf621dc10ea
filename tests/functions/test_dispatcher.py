"""The dispatcher's tick: due leads are queued for the sender once, whatever the overlap of ticks."""

import json
from datetime import datetime, timedelta

import boto3
import pytest

from nurture import keys
from nurture.adapters.dispatch_store import DynamoDispatchStore
from nurture.adapters.send_queue import SendQueue
from nurture.domain.clock import utc_now
from nurture.domain.dispatch import tick
from nurture.local.functions import invoke
from nurture.local.resources import LocalResources
from tests.conftest import SHARED_EVENTS
from tests.functions.helpers import post_json, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")
RESOURCES = LocalResources()


def queued() -> list[dict]:
    sqs = boto3.client("sqs")
    url = RESOURCES.queue_url(RESOURCES.send_queue)
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(m["Body"]) for m in batch]
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return found


def enrolled_leads(count: int) -> list[str]:
    pipeline = Pipeline()
    ids = [submit("/v1/forms/contact", {"email": f"due{n}@example{n}.co.jp", "name": "D", "company": f"C{n}",
                                                     "consent": True}) for n in range(count)]
    pipeline.drain()
    return ids


def collaborators():
    return DynamoDispatchStore(RESOURCES.table_name), SendQueue(RESOURCES.queue_url(RESOURCES.send_queue))


def test_due_leads_are_queued_once_even_when_ticks_overlap():
    lead_ids = enrolled_leads(3)
    later = utc_now() + timedelta(days=10)  # every first step is due by then
    first = tick(*collaborators(), later, keys.DUE_SHARDS)
    second = tick(*collaborators(), later, keys.DUE_SHARDS)  # an overlapping tick: same moment
    assert (first.claimed, second.claimed) == (3, 0)
    messages = queued()
    assert sorted(m["lead_id"] for m in messages) == sorted(lead_ids)
    assert {(m["sequence"], m["step"]) for m in messages} == {("warm_nurture", 0)}


def test_a_claim_is_a_lease_that_runs_out():
    (lead_id,) = enrolled_leads(1)
    later = utc_now() + timedelta(days=10)
    assert tick(*collaborators(), later, keys.DUE_SHARDS).claimed == 1
    assert tick(*collaborators(), later + timedelta(minutes=16), keys.DUE_SHARDS).claimed == 1  # message lost?
    assert profile(lead_id)["due_sk"].startswith((later + timedelta(minutes=31)).strftime("%Y-%m-%dT%H:%M"))


def test_nothing_due_nothing_sent():
    enrolled_leads(2)
    assert tick(*collaborators(), datetime(2020, 1, 1).astimezone(), keys.DUE_SHARDS).claimed == 0
    assert queued() == []


@pytest.mark.parametrize("name", ["samcli__cloudwatch-scheduled-event.json",
                                  "awsdocs__lambda-dg-eventbridge-scheduled-event.json"])
def test_the_handler_takes_published_scheduled_events(name):
    enrolled_leads(1)
    response = invoke("dispatcher", json.loads((SHARED_EVENTS / name).read_text(encoding="utf-8")))
    assert set(response) == {"due", "dispatched", "lost_races", "campaigns_started", "campaigns_decided",
                             "held_released", "unconfirmed_removed", "verdicts_reminded", "verdicts_escalated",
                             "reminders_queued", "seats_offered", "customers_reviewed", "customers_moved"}


def test_scoring_the_lead_meanwhile_leaves_the_claim_standing():
    (lead_id,) = enrolled_leads(1)
    later = utc_now() + timedelta(days=10)
    assert tick(*collaborators(), later, keys.DUE_SHARDS).claimed == 1
    leased = profile(lead_id)["due_sk"]
    pipeline = Pipeline()
    post_json("/v1/forms/contact", {"email": "due0@example0.co.jp", "name": "D", "company": "C0", "consent": True,
                                    "message": "もう一度"})  # new activity: the lead is scored again
    pipeline.drain()
    assert profile(lead_id)["due_sk"] == leased  # a second tick cannot claim the same step meanwhile
    assert tick(*collaborators(), later, keys.DUE_SHARDS).claimed == 0
