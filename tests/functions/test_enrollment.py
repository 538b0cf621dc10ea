"""Scoring enrolls leads in the step-email sequence of their rank and fills the sparse due index."""

import json

import boto3
import pytest

from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from tests.functions.helpers import post_json, profile, submit
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import dispatch_and_send, due_at, outbox

pytestmark = pytest.mark.usefixtures("aws")


def due_leads() -> list[str]:
    dynamodb = boto3.client("dynamodb")
    found = []
    for shard in range(4):
        found += dynamodb.query(TableName=LocalResources().table_name, IndexName="due",
                                KeyConditionExpression="due_pk = :pk",
                                ExpressionAttributeValues={":pk": {"S": f"DUE#{shard}"}})["Items"]
    return [item["lead_id"]["S"] for item in found]


def test_a_new_warm_lead_is_enrolled_and_due():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/contact", {"email": "warm@example.co.jp", "name": "W", "company": "C",
                                                        "consent": True})
    pipeline.drain()
    lead = profile(lead_id)
    assert lead["rank"] == "B" and lead["sequence"]["sequence"] == "warm_nurture"
    assert lead["sequence"]["next_send_at"] and lead["form_kinds"] == {"contact"}
    assert lead["due_sk"].startswith(lead["sequence"]["next_send_at"]) and due_leads() == [lead_id]


def test_a_rank_change_switches_and_a_stop_leaves_the_due_index():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/whitepaper", {"email": "cold@example.jp", "name": "C", "company": "C",
                                                           "consent": True})
    pipeline.drain()
    assert profile(lead_id)["sequence"]["sequence"] == "warm_nurture"  # 20 points: B
    api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                body=json.dumps({"outcome": "won"}).encode())
    pipeline.drain()
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] == "converted" and "due_pk" not in lead and due_leads() == []


def test_a_lead_sales_send_back_is_nurtured_again_in_its_sequence():
    # Given a lead on a personal address (rank C whatever it does), in its sequence, then handed to
    # sales by its demo request
    pipeline = Pipeline()
    person = {"email": "someone@gmail.com", "name": "S", "company": "C", "consent": True}
    lead_id = submit("/v1/forms/whitepaper", person)
    pipeline.drain()
    assert profile(lead_id)["sequence"]["sequence"] == "cold_nurture"
    post_json("/v1/forms/demo", {**person, "phone": "03-0000-0000"})
    pipeline.drain()
    lead = profile(lead_id)
    assert (lead["stage"], lead["rank"], lead["sequence"]["stopped"]) == ("handed_off", "C", "handed_off")
    assert due_leads() == []
    # When sales send it back, still rank C
    api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                body=json.dumps({"outcome": "recycle", "reason": "個人の情報収集"}).encode())
    pipeline.drain()
    # Then its sequence goes on with the emails it has not had, and it is due again
    lead = profile(lead_id)
    assert (lead["stage"], lead["rank"], lead["sequence"]["sequence"]) == ("recycled", "C", "cold_nurture")
    assert lead["sequence"].get("stopped") is None and lead["sequence"]["next_send_at"]
    assert due_leads() == [lead_id]
    # And when it comes due, the email goes out
    dispatch_and_send(due_at(lead_id))
    sent = outbox()  # beside the whitepaper its first post asked for
    assert [str(email["To"]) for email in sent] == ["someone@gmail.com"] * 2
    assert sum(str(email["Subject"]).startswith("【ミライ在庫】資料のご送付") for email in sent) == 1
