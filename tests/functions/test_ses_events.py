"""SES events through the real handler: activity on the lead, suppression, counters, each once."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from nurture import keys
from nurture.domain.dispatch import tick
from nurture.local.functions import invoke
from tests.conftest import SHARED_EVENTS
from tests.functions.helpers import all_items, items_under, profile, submit
from tests.functions.pipeline import Pipeline
from tests.functions.test_dispatcher import collaborators
from tests.unit.test_ses_events import CLASSIC_BOUNCE, SAMPLES, sns_envelope

pytestmark = pytest.mark.usefixtures("aws")
RECIPIENT = "recipient@example.com"  # the address in AWS's samples


def sample(name: str) -> dict[str, Any]:
    return json.loads((SHARED_EVENTS / f"awsdocs__ses-sns-{name}.json").read_text(encoding="utf-8"))


def sqs_batch(*bodies: str) -> dict[str, Any]:
    """SQS records as the event source mapping delivers them, one SNS notification each."""
    return {"Records": [{
        "messageId": f"m-{n}", "receiptHandle": f"r-{n}", "body": body, "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:nurture-ses-events", "awsRegion": "ap-northeast-1",
    } for n, body in enumerate(bodies)]}


def a_lead(email: str = RECIPIENT) -> str:
    pipeline = Pipeline()
    lead_id: str = submit("/v1/forms/contact", {"email": email, "name": "R", "company": "C",
                                                            "consent": True})
    pipeline.drain()
    return lead_id


def activity(lead_id: str) -> list[str]:
    return [e["type"] for e in items_under(keys.lead_pk(lead_id), keys.EVENT_PREFIX)]


def test_every_published_sample_lands_on_the_lead_it_was_sent_to():
    lead_id = a_lead()
    response = invoke("ses_events", sqs_batch(*(sns_envelope(p.read_text(encoding="utf-8")) for p in SAMPLES)))
    assert response["batchItemFailures"] == []
    assert {"email_accepted", "email_delivered", "email_bounced", "email_complained", "email_open",
            "email_click"} <= set(activity(lead_id))


def test_a_malformed_body_fails_alone_beside_good_ones():
    lead_id = a_lead()
    response = invoke("ses_events", sqs_batch(sns_envelope(json.dumps(sample("delivery"))), "{broken",
                                              json.dumps(sample("open"))))
    assert response["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert {"email_delivered", "email_open"} <= set(activity(lead_id))


def test_the_same_event_delivered_twice_counts_once():
    lead_id = a_lead()
    delivery = tagged("delivery", lead_id)
    body = sns_envelope(json.dumps(delivery))
    invoke("ses_events", sqs_batch(body))
    invoke("ses_events", sqs_batch(body, json.dumps(delivery)))  # again, and once more without SNS
    assert activity(lead_id).count("email_delivered") == 1
    (stats,) = [i for i in all_items() if i["PK"] == keys.stats_pk("warm_nurture", "know_how")]
    assert stats["delivered"] == 1


def tagged(name: str, lead_id: str) -> dict[str, Any]:
    """A copy of AWS's sample carrying the message tags our sender sets."""
    event = copy.deepcopy(sample(name))
    event["mail"]["tags"] = {**event["mail"].get("tags", {}), "lead": [lead_id], "sequence": ["warm_nurture"],
                             "step": ["know_how"], "message": ["m1"]}
    return event


def test_a_machine_open_is_counted_apart_from_a_persons():
    lead_id = a_lead()
    person = tagged("open", lead_id)  # AWS's sample: an iPhone, half a minute after the send
    proxy = copy.deepcopy(person)
    proxy["open"] = {**proxy["open"], "userAgent": "Mozilla/5.0 (compatible; YahooMailProxy)",
                     "timestamp": "2017-08-09T22:05:00.000Z"}
    invoke("ses_events", sqs_batch(sns_envelope(json.dumps(person)), sns_envelope(json.dumps(proxy))))
    (stats,) = [i for i in all_items() if i["PK"] == keys.stats_pk("warm_nurture", "know_how")]
    assert (stats["opened"], stats["opened_bot"]) == (1, 1)
    opens = [e for e in items_under(keys.lead_pk(lead_id), keys.EVENT_PREFIX) if e["type"] == "email_open"]
    assert sorted(str(e.get("bot_reason")) for e in opens) == ["None", "image_proxy"]


def test_a_permanent_bounce_suppresses_and_the_next_dispatch_skips_the_lead():
    from datetime import timedelta

    from nurture.domain.clock import utc_now

    lead_id = a_lead()
    assert "due_sk" in profile(lead_id)
    pipeline = Pipeline()
    invoke("ses_events", sqs_batch(sns_envelope(json.dumps(sample("bounce")))))
    pipeline.drain()  # scoring sees the bounce: the sequence stops
    lead = profile(lead_id)
    assert lead["status"] == "bounced" and lead["sequence"]["stopped"] == "bounced" and "due_sk" not in lead
    (suppressed,) = [i for i in all_items() if i["PK"].startswith("SUPPRESS#")]
    assert suppressed["reason"] == "bounced" and RECIPIENT not in json.dumps(suppressed, default=str)
    assert tick(*collaborators(), utc_now() + timedelta(days=30), keys.DUE_SHARDS).claimed == 0


def test_a_complaint_suppresses_even_an_address_we_no_longer_know():
    invoke("ses_events", sqs_batch(sns_envelope(json.dumps(sample("complaint")))))
    (suppressed,) = [i for i in all_items() if i["PK"].startswith("SUPPRESS#")]
    assert suppressed["reason"] == "complained"
    assert not [i for i in all_items() if i["PK"].startswith("LEAD#")]


def test_soft_bounces_in_a_row_suppress_and_a_delivery_resets_the_run():
    lead_id = a_lead("a@example.co.jp")
    bounce = copy.deepcopy(CLASSIC_BOUNCE)

    def soft_bounce(n: int) -> str:
        bounce["mail"]["messageId"] = f"0100-classic-{n}"
        return sns_envelope(json.dumps(bounce))

    invoke("ses_events", sqs_batch(soft_bounce(1), soft_bounce(2)))
    assert profile(lead_id)["transient_bounces"] == 2 and profile(lead_id)["status"] == "active"
    delivered = copy.deepcopy(sample("delivery"))
    delivered["delivery"]["recipients"] = ["a@example.co.jp"]
    invoke("ses_events", sqs_batch(sns_envelope(json.dumps(delivered))))
    assert profile(lead_id)["transient_bounces"] == 0
    invoke("ses_events", sqs_batch(soft_bounce(3), soft_bounce(4)))
    assert profile(lead_id)["status"] == "active"
    invoke("ses_events", sqs_batch(soft_bounce(5)))
    assert profile(lead_id)["status"] == "bounced"


@pytest.mark.parametrize("name", ["powertools__snsSqsEvent.json", "awsdocs__lambda-dg-sqs-standard.json"])
def test_published_sqs_events_that_carry_no_ses_event_fail_record_by_record(name):
    event = json.loads((SHARED_EVENTS / name).read_text(encoding="utf-8"))
    response = invoke("ses_events", event)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == \
        sorted(r["messageId"] for r in event["Records"])


def test_a_bounce_storm_pauses_the_dispatcher_until_resumed():
    from datetime import timedelta

    import boto3

    from nurture.adapters.counters import day_count
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.domain.clock import utc_now
    from nurture.local.resources import LocalResources

    table = LocalResources().table_name
    lead_id = a_lead()
    today = utc_now().date().isoformat()
    dynamodb = boto3.client("dynamodb")
    for n in range(20):  # twenty sends recorded today, nine of them bounced
        dynamodb.transact_write_items(TransactItems=[day_count(table, today, f"x{n}", "sent")])
    for n in range(9):
        dynamodb.transact_write_items(TransactItems=[day_count(table, today, f"y{n}", "bounced")])
    bounce = copy.deepcopy(sample("bounce"))  # then the tenth hard bounce: half the sends, with evidence
    bounce["bounce"]["timestamp"] = utc_now().isoformat()
    invoke("ses_events", sqs_batch(sns_envelope(json.dumps(bounce))))
    guard = DynamoDeliverabilityStore(table)
    paused = guard.paused()
    assert paused is not None and paused["reason"].startswith("bounce rate 50.00% (10 hard bounces in 20 sends")
    result = tick(*collaborators(), utc_now() + timedelta(days=30), keys.DUE_SHARDS)
    assert result.paused and result.claimed == 0
    assert guard.resume() and guard.paused() is None
    assert profile(lead_id)["status"] == "bounced"


def test_the_recipient_finds_its_lead_however_ses_spells_the_address():
    lead_id = a_lead("hanako@example.co.jp")
    delivered = copy.deepcopy(sample("delivery"))
    # A fully qualified domain (trailing dot) and full-width letters: normalized as the forms normalize.
    delivered["delivery"]["recipients"] = ["ｈａｎａｋｏ@EXAMPLE.co.jp."]
    invoke("ses_events", sqs_batch(sns_envelope(json.dumps(delivered))))
    assert "email_delivered" in activity(lead_id)


def test_a_redelivered_bounce_for_an_address_with_no_lead_counts_once():
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.local.resources import LocalResources

    bounce = sns_envelope(json.dumps(sample("bounce")))  # AWS's sample: an address Nurture never knew
    for _ in range(3):  # delivered, then redelivered twice
        assert invoke("ses_events", sqs_batch(bounce))["batchItemFailures"] == []
    (day,) = DynamoDeliverabilityStore(LocalResources().table_name).recent_days()
    assert day.bounced == 1


def test_a_pause_whose_answer_was_lost_is_still_known_as_this_checks_own():
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.domain.deliverability import Verdict
    from nurture.local.resources import LocalResources

    guard = DynamoDeliverabilityStore(LocalResources().table_name)
    verdict = Verdict(1000, 0, 6, 0.0, 0.006, True, False, "complaint rate 0.600%")
    assert guard.pause(verdict, "2026-12-01T00:00:00.000000Z")
    assert guard.pause(verdict, "2026-12-01T00:00:00.000000Z")  # the SDK's retry of the same write: its own
    assert not guard.pause(verdict, "2026-12-01T00:05:00.000000Z")  # another check later: paused already
