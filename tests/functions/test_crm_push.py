"""The CRM push: handoffs, verdicts, owner changes and calls as versioned events to a signed generic webhook and to a
kintone app, with the real handoff and notifier functions under moto, the local webhook receiver and the local
kintone (which checks each request as kintone's REST API documents it)."""

import json
from typing import Any

import boto3
import pytest

from nurture.domain.sales.crm import CrmEvent
from tests.functions.alerting import RESOURCES, Receiver, notifier
from tests.functions.helpers import post_json, profile
from tests.functions.pipeline import Pipeline
from tests.functions.test_call_tasks import warm_manufacturer
from tests.functions.test_routing import demo_request

pytestmark = pytest.mark.usefixtures("aws")


def pushed(receiver: Receiver) -> list[dict[str, Any]]:
    """The CRM webhook's events, each checked against the documented model, oldest first."""
    posts = [post for post in receiver.webhooks.received() if post.webhook == "crm_push"]
    assert all(post.signature_valid for post in posts)
    assert [post.event for post in posts] == [post.json()["type"] for post in posts]
    return [CrmEvent.of(**post.json()).as_data() for post in posts]


def test_a_handoff_is_pushed_signed_to_the_crm_webhook_and_upserted_as_the_leads_kintone_record(receiver: Receiver):
    pipeline = Pipeline()
    lead_id = demo_request("boss@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()
    notifier().drain()

    (event,) = pushed(receiver)
    assert (event["type"], event["schema_version"], event["event_id"]) == (
        "lead.handed_off", 1, event["handoff"]["handoff_id"])
    assert event["lead"]["lead_id"] == lead_id and event["lead"]["owner"] == {"id": "ito", "kind": "person",
                                                                              "name": "伊藤 美咲"}
    assert event["handoff"]["owner"]["rule"] == "west_japan"
    record = receiver.kintone.records[lead_id]
    assert record.revision == 1 and record.values == {
        "メールアドレス": "boss@osaka-one.example.co.jp", "氏名": "担当 太郎", "会社名": "大阪第一", "役職": "部長",
        "電話番号": "03-1234-5678", "都道府県": "大阪府", "ランク": "A", "ステージ": "handed_off",
        "スコア": f"{float(profile(lead_id)['total']):g}", "担当営業": "伊藤 美咲", "最新の出来事": "lead.handed_off",
        "最新の出来事の日時": event["occurred_at"], "リード詳細URL": f"{event['lead']['link']}"}
    assert [request.status for request in receiver.kintone.requests] == [200]


def test_verdicts_owner_changes_and_calls_follow_as_their_own_events_and_update_the_same_record(receiver: Receiver):
    pipeline = Pipeline()
    lead_id = demo_request("boss@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()
    assert post_json(f"/v1/leads/{lead_id}/feedback", {"outcome": "accepted", "note": "来週訪問"})["statusCode"] == 200
    assert post_json(f"/v1/leads/{lead_id}/owner", {"owner": "sato", "by": "部長", "reason": "担当替え"})[
        "statusCode"] == 200
    caller = warm_manufacturer(pipeline, "crm-call")
    assert post_json(f"/v1/tasks/{caller}-0/outcome", {"outcome": "reached", "by": "鈴木"})["statusCode"] == 200
    pipeline.drain()
    notifier().drain()

    events = {event["type"]: event for event in pushed(receiver)}
    assert set(events) == {"lead.handed_off", "lead.feedback", "lead.owner_changed", "lead.call_recorded"}
    assert events["lead.feedback"]["feedback"] == {"outcome": "accepted", "reason": None, "note": "来週訪問"}
    assert events["lead.owner_changed"]["owner_change"] == {"previous": "ito", "owner": "sato", "kind": "person",
                                                           "by": "部長", "reason": "担当替え"}
    assert events["lead.call_recorded"]["call"] == {"task_id": f"{caller}-0", "outcome": "reached", "attempt": 1,
                                                    "by": "鈴木", "note": None}
    record = receiver.kintone.records[lead_id]
    assert record.revision == 3 and record.values["担当営業"] == "佐藤 健" and record.values["ステージ"] == "accepted"
    assert receiver.kintone.records[caller].values["最新の出来事"] == "lead.call_recorded"


def test_what_a_lead_typed_reaches_kintone_as_text_a_spreadsheet_will_not_run(receiver: Receiver):
    pipeline = Pipeline()
    lead_id = demo_request("eve@osaka-one.example.co.jp", "=SUM(A1:A9)*10", prefecture="大阪府")
    pipeline.drain()
    notifier().drain()

    assert receiver.kintone.records[lead_id].values["会社名"] == "'=SUM(A1:A9)*10"
    assert pushed(receiver)[0]["lead"]["company"] == "=SUM(A1:A9)*10"  # JSON is data, left as typed


def test_a_kintone_app_without_a_mapped_field_is_retried_then_dead_lettered_and_holds_up_nothing(receiver: Receiver):
    receiver.kintone.field_codes = {"nurture_lead_id", "メールアドレス"}  # the app lacks the other fields
    pipeline = Pipeline()
    demo_request("boss@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()

    poller = notifier(retry_at_once=True)
    for _ in range(12):
        poller.poll_once()

    assert receiver.kintone.records == {} and {r.code for r in receiver.kintone.requests} == {"CB_VA01"}
    assert len(receiver.kintone.requests) == 6  # ALERT_QUEUE_RECEIVES tries
    assert [event["type"] for event in pushed(receiver)] == ["lead.handed_off"]  # the webhook got it at once
    dead = boto3.client("sqs").receive_message(QueueUrl=RESOURCES.queue_url(RESOURCES.alert_dead_letters),
                                               MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["target"] for m in dead] == ["kintone"]


def test_kintone_refuses_a_request_without_the_api_token_as_kintone_does(receiver: Receiver):
    from nurture.domain.sales.webhooks import WebhookTarget, parameter_value

    boto3.client("ssm").put_parameter(Name=f"{RESOURCES.webhook_parameters}/kintone", Type="SecureString",
                                      Overwrite=True, Value=parameter_value(WebhookTarget(
                                          f"{receiver.base}/_kintone", "a-token-kintone-never-issued")))
    receiver.kintone.token = "the-token-kintone-issued-for-this-app"
    pipeline = Pipeline()
    lead_id = demo_request("boss@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()
    notifier().drain()

    assert lead_id not in receiver.kintone.records
    assert [(r.status, r.code) for r in receiver.kintone.requests] == [(401, "GAIA_IA02")]
    assert profile(lead_id)["stage"] == "handed_off"  # the handoff itself is untouched
