"""SES events through the real handler: activity on the lead, suppression, counters, each once. They arrive as
EventBridge delivers them to the queue (AWS's path since issue 20); SNS's shape is still read (an upgrade)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from nurture import keys
from nurture.domain.console.audit import Change
from nurture.domain.dispatch import tick
from nurture.local.functions import invoke
from tests.conftest import SHARED_EVENTS
from tests.functions.helpers import all_items, items_under, profile, submit
from tests.functions.pipeline import Pipeline
from tests.functions.test_dispatcher import collaborators
from tests.unit.test_ses_events import CLASSIC_BOUNCE, EVENTBRIDGE_SAMPLES, SAMPLES, eventbridge_envelope, sns_envelope

pytestmark = pytest.mark.usefixtures("aws")
RECIPIENT = "recipient@example.com"  # the address in AWS's samples


def sample(name: str) -> dict[str, Any]:
    return json.loads((SHARED_EVENTS / f"awsdocs__ses-sns-{name}.json").read_text(encoding="utf-8"))


def sqs_batch(*bodies: str) -> dict[str, Any]:
    """SQS records as the event source mapping delivers them, one SES event each."""
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


def test_every_documented_eventbridge_sample_lands_on_the_lead_it_was_sent_to():
    lead_id = a_lead()
    response = invoke("ses_events", sqs_batch(*(p.read_text(encoding="utf-8") for p in EVENTBRIDGE_SAMPLES)))
    assert response["batchItemFailures"] == []
    assert {"email_delivered", "email_bounced", "email_complained", "email_open", "email_click"} <= set(
        activity(lead_id))


def test_every_published_sample_lands_on_the_lead_through_eventbridge_and_through_sns():
    through_eventbridge = a_lead()
    response = invoke("ses_events", sqs_batch(*(eventbridge_envelope(json.loads(p.read_text(encoding="utf-8")))
                                                for p in SAMPLES)))
    assert response["batchItemFailures"] == []
    kinds = {"email_accepted", "email_delivered", "email_bounced", "email_complained", "email_open", "email_click"}
    recorded = sorted(activity(through_eventbridge))
    assert kinds <= set(recorded)
    # Messages the SNS topic queued before the upgrade are read as before: the same events, already recorded.
    response = invoke("ses_events", sqs_batch(*(sns_envelope(p.read_text(encoding="utf-8")) for p in SAMPLES)))
    assert response["batchItemFailures"] == []
    assert sorted(activity(through_eventbridge)) == recorded


def test_a_malformed_body_fails_alone_beside_good_ones():
    lead_id = a_lead()
    response = invoke("ses_events", sqs_batch(eventbridge_envelope(sample("delivery")), "{broken",
                                              json.dumps(sample("open"))))
    assert response["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert {"email_delivered", "email_open"} <= set(activity(lead_id))


def test_the_same_event_delivered_twice_counts_once():
    lead_id = a_lead()
    delivery = tagged("delivery", lead_id)
    body = eventbridge_envelope(delivery)
    invoke("ses_events", sqs_batch(body))
    # Again, then through SNS (queued before an upgrade) and bare: the same event, whatever its envelope.
    invoke("ses_events", sqs_batch(body, sns_envelope(json.dumps(delivery)), json.dumps(delivery)))
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
    invoke("ses_events", sqs_batch(eventbridge_envelope(person), eventbridge_envelope(proxy)))
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
    invoke("ses_events", sqs_batch(eventbridge_envelope(sample("bounce"))))
    pipeline.drain()  # scoring sees the bounce: the sequence stops
    lead = profile(lead_id)
    assert lead["status"] == "bounced" and lead["sequence"]["stopped"] == "bounced" and "due_sk" not in lead
    (suppressed,) = [i for i in all_items() if i["PK"].startswith("SUPPRESS#")]
    assert suppressed["reason"] == "bounced" and RECIPIENT not in json.dumps(suppressed, default=str)
    assert tick(*collaborators(), utc_now() + timedelta(days=30), keys.DUE_SHARDS).claimed == 0


def test_a_complaint_suppresses_even_an_address_we_no_longer_know():
    invoke("ses_events", sqs_batch(eventbridge_envelope(sample("complaint"))))
    (suppressed,) = [i for i in all_items() if i["PK"].startswith("SUPPRESS#")]
    assert suppressed["reason"] == "complained"
    assert not [i for i in all_items() if i["PK"].startswith("LEAD#")]


def test_soft_bounces_in_a_row_suppress_and_a_delivery_resets_the_run():
    lead_id = a_lead("a@example.co.jp")
    bounce = copy.deepcopy(CLASSIC_BOUNCE)

    def soft_bounce(n: int) -> str:
        bounce["mail"]["messageId"] = f"0100-classic-{n}"
        return sns_envelope(json.dumps(bounce))  # classic notifications go to SNS only, never to EventBridge

    invoke("ses_events", sqs_batch(soft_bounce(1), soft_bounce(2)))
    assert profile(lead_id)["transient_bounces"] == 2 and profile(lead_id)["status"] == "active"
    delivered = copy.deepcopy(sample("delivery"))
    delivered["delivery"]["recipients"] = ["a@example.co.jp"]
    invoke("ses_events", sqs_batch(eventbridge_envelope(delivered)))
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
    invoke("ses_events", sqs_batch(eventbridge_envelope(bounce)))
    guard = DynamoDeliverabilityStore(table)
    paused = guard.paused()
    assert paused is not None and paused["reason"].startswith("bounce rate 50.00% (10 hard bounces in 20 sends")
    result = tick(*collaborators(), utc_now() + timedelta(days=30), keys.DUE_SHARDS)
    assert result.paused and result.claimed == 0
    assert guard.resume(Change("operator@example.jp", "sending.resume", "", utc_now())) and guard.paused() is None
    assert profile(lead_id)["status"] == "bounced"


def test_the_recipient_finds_its_lead_however_ses_spells_the_address():
    lead_id = a_lead("hanako@example.co.jp")
    delivered = copy.deepcopy(sample("delivery"))
    # A fully qualified domain (trailing dot) and full-width letters: normalized as the forms normalize.
    delivered["delivery"]["recipients"] = ["ｈａｎａｋｏ@EXAMPLE.co.jp."]
    invoke("ses_events", sqs_batch(eventbridge_envelope(delivered)))
    assert "email_delivered" in activity(lead_id)


def test_a_redelivered_bounce_for_an_address_with_no_lead_counts_once():
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.local.resources import LocalResources

    bounce = eventbridge_envelope(sample("bounce"))  # AWS's sample: an address Nurture never knew
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


def test_the_emulators_rule_routes_the_configuration_sets_events_to_the_queue_and_no_other_sets():
    """The local path is AWS's: SES's events on the default bus, the stack's pattern, the queue, the function."""
    import boto3

    from nurture.local.queues import QueuePoller
    from nurture.local.resources import LocalResources
    from nurture.local.ses_publisher import EventPublisher

    resources = LocalResources()
    lead_id = a_lead()
    ours, other = tagged("delivery", lead_id), tagged("open", lead_id)
    other["mail"]["tags"]["ses:configuration-set"] = ["someone-elses"]
    ours["mail"]["tags"]["ses:configuration-set"] = [resources.configuration_set]
    EventPublisher(resources.configuration_set_arn, resources.region).publish(ours, other)
    queue = resources.queue_url(resources.ses_events_queue)
    (message,) = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert (body["source"], body["detail-type"], body["detail"]) == ("aws.ses", "Email Delivered", ours)
    boto3.client("sqs").change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
    QueuePoller(queue, resources.region, lambda event: invoke("ses_events", event)).poll_once()
    assert "email_delivered" in activity(lead_id) and "email_open" not in activity(lead_id)


@pytest.mark.parametrize("path", EVENTBRIDGE_SAMPLES, ids=[p.name for p in EVENTBRIDGE_SAMPLES])
def test_the_stacks_pattern_takes_its_configuration_sets_documented_events_and_no_other_sets(path):
    from moto.events.models import EventPattern

    from nurture.topology import ses_events_pattern

    event = json.loads(path.read_text(encoding="utf-8"))  # AWS's records carry "ses:configuration-set": ConfigSet
    assert EventPattern.load(json.dumps(ses_events_pattern("ConfigSet"))).matches_event(event)
    assert not EventPattern.load(json.dumps(ses_events_pattern("nurture-other"))).matches_event(event)
    assert not EventPattern.load(json.dumps(ses_events_pattern("ConfigSet"))).matches_event(
        {**event, "source": "aws.ec2"})
