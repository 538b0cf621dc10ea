"""Scoring and handoff through the table's stream, with the real functions under moto."""

import copy
import json

import pytest

from nurture.local.functions import api_request, invoke
from tests.functions.helpers import body_json, items_under, post_json, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")

BOSS = {"email": "bucho@example.co.jp", "name": "部長 一郎", "company": "製造株式会社", "title": "情報システム部 部長",
        "consent": True}


def test_demo_request_reaches_the_handoff_queue_once_with_what_sales_needs():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/demo", {**BOSS, "phone": "03-1234-5678", "employees": "1200"})
    pipeline.drain()

    (message,) = pipeline.messages()
    assert message["schema_version"] == 3 and message["lead_id"] == lead_id
    assert (message["owner"]["id"], message["owner"]["rule"]) == ("tanaka", "large_companies")  # 1,200 employees
    assert message["contact"]["email"] == "bucho@example.co.jp" and message["company"]["name"] == "製造株式会社"
    assert message["rank"] == "A" and message["scores"]["fit"] >= 20
    assert [p["id"] for p in message["reasons"]["patterns"]] == ["demo_request_is_hot"]
    assert {r["rule_id"] for r in message["reasons"]["top"]} >= {"demo_request", "title_head"}
    assert message["activities"][0]["type"] == "form_submit" and message["consent"]["granted"] is True
    (record,) = items_under(f"LEAD#{lead_id}", "CONSENT#")  # the wording, from the record: the profile has none
    assert message["consent"]["purpose"] == record["purpose"] and message["consent"]["purpose"]
    assert message["links"]["feedback"].endswith(f"/v1/leads/{lead_id}/feedback")
    lead = profile(lead_id)
    assert lead["stage"] == "handed_off" and lead["handoff_id"] == message["handoff_id"]


def test_replaying_a_batch_three_times_changes_nothing():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/demo", {**BOSS, "phone": "03-1234-5678"})
    post_json("/v1/events", {"vid": "replay-visitor", "type": "page_view", "url": "https://example.jp/"})
    pipeline.drain()
    scored, ledger = profile(lead_id), items_under(f"LEAD#{lead_id}", "SCORE#")
    first_batch = pipeline.batches["scoring"][0]
    handoff_batch = pipeline.batches["handoff"][0]

    for _ in range(3):
        assert invoke("scoring", copy.deepcopy(first_batch)) == {"batchItemFailures": []}
        assert invoke("handoff", copy.deepcopy(handoff_batch)) == {"batchItemFailures": []}

    assert profile(lead_id)["scoring"] == scored["scoring"] and profile(lead_id)["total"] == scored["total"]
    assert profile(lead_id)["activity"] == scored["activity"]  # written in the same conditional update
    assert scored["activity"]["types"]["form_submit"]["n"] == 1 and scored["activity"]["forms"]["demo"]["n"] == 1
    assert items_under(f"LEAD#{lead_id}", "SCORE#") == ledger
    assert len(items_under(f"LEAD#{lead_id}", "HANDOFF#")) == 1
    assert len(pipeline.messages()) == 1  # FIFO deduplication by handoff id


def test_a_poison_record_fails_alone():
    pipeline = Pipeline()
    post_json("/v1/forms/contact", {**BOSS, "email": "one@example.co.jp"})
    post_json("/v1/forms/seminar", {**BOSS, "email": "two@example.co.jp", "session": "2026-12-10"})
    pipeline.poller.poll_once()  # scoring applied; now build a batch with a poison record in the middle
    good = pipeline.batches["scoring"][0]["Records"]
    poison = copy.deepcopy(good[0])
    poison["dynamodb"]["SequenceNumber"] = "1"
    del poison["dynamodb"]["NewImage"]["occurred_at"]
    fresh = copy.deepcopy(good)
    for offset, record in enumerate(fresh):
        record["dynamodb"]["SequenceNumber"] = str(int(record["dynamodb"]["SequenceNumber"]) + 10**6 + offset)
        record["dynamodb"]["NewImage"]["event_id"]["S"] += "-later"
    ledger_before = {lead: len(items_under(f"LEAD#{lead}", "SCORE#")) for lead in _leads(fresh)}
    response = invoke("scoring", {"Records": [fresh[0], poison, fresh[1]]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    for lead in _leads(fresh):  # the records around the poison were applied
        assert len(items_under(f"LEAD#{lead}", "SCORE#")) == ledger_before[lead] + 1


def _leads(records):
    return [r["dynamodb"]["Keys"]["PK"]["S"].removeprefix("LEAD#") for r in records]


def test_recycle_then_hot_again_gives_a_second_handoff():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/demo", {**BOSS, "phone": "03-1234-5678"})
    pipeline.drain()
    (first,) = pipeline.messages()

    feedback = api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                           body=json.dumps({"outcome": "recycle", "reason": "予算なし", "note": "来期再検討"}).encode())
    assert feedback is not None and feedback["statusCode"] == 200, feedback
    assert body_json(feedback)["stage"] == "recycled"
    pipeline.drain()
    assert pipeline.messages() == []  # the feedback itself makes nobody hot

    post_json("/v1/forms/demo", {**BOSS, "phone": "03-1234-5678", "preferred_date": "来週"})
    pipeline.drain()
    (second,) = pipeline.messages()
    assert second["handoff_id"] != first["handoff_id"]
    assert len(items_under(f"LEAD#{lead_id}", "HANDOFF#")) == 2


def test_published_message_validates_against_the_documented_schema():
    import jsonschema

    from tests.unit.test_handoff_schema import SCHEMA_FILE

    pipeline = Pipeline()
    post_json("/v1/forms/demo", {**BOSS, "phone": "03-1234-5678"})
    pipeline.drain()
    (message,) = pipeline.messages()
    jsonschema.validate(message, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_a_beacon_requests_events_are_one_stream_record_scored_together_and_each_shown_on_the_lead():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/contact", {**BOSS, "vid": "batching-browser"})
    pipeline.drain()
    pipeline.batches["scoring"].clear()
    views = [{"vid": "batching-browser", "type": "page_view", "url": f"https://example.jp/pricing/{n}"}
             for n in range(3)]
    assert post_json("/v1/events", views)["statusCode"] == 204
    pipeline.drain()
    (batch,) = pipeline.batches["scoring"]
    assert len(batch["Records"]) == 1  # the request's one item
    (stored,) = [i for i in items_under(f"LEAD#{lead_id}", "EVT#") if i["type"] == "events"]
    earned = {entry["event_id"] for entry in items_under(f"LEAD#{lead_id}", "SCORE#")
              if entry["rule_id"] == "pricing_view"}
    assert earned == {event["event_id"] for event in stored["events"][:2]}  # 10 points each, 20 a day
    shown = body_json(api_request("GET", f"/v1/leads/{lead_id}"))["activities"]
    assert [a["url"] for a in shown if a["type"] == "page_view"] == [v["url"] for v in reversed(views)]
    assert profile(lead_id)["activity"]["types"]["page_view"]["n"] == 3
