"""The stream filters the stack attaches, applied by the local poller to real stream records."""

import json

import pytest

from nurture.local.filters import matches
from nurture.local.resources import LocalResources
from nurture.local.streams import StreamPoller
from nurture.table import TABLE
from tests.conftest import SHARED_EVENTS
from tests.functions.helpers import post_json

pytestmark = pytest.mark.usefixtures("aws")


def poller_with_recorder() -> tuple[StreamPoller, dict[str, list[dict]]]:
    received: dict[str, list[dict]] = {"scoring": [], "handoff": []}
    resources = LocalResources()
    consumers = {name: (lambda event, name=name: received[name].extend(event["Records"])) for name in received}
    return StreamPoller(resources.table_name, resources.region, consumers), received


def test_scorer_receives_only_new_lead_activity():
    poller, received = poller_with_recorder()
    post_json("/v1/forms/contact", {"email": "s@example.jp", "name": "S", "company": "C", "consent": True,
                                    "vid": "stream-visitor"})
    post_json("/v1/events", [{"vid": "another-visitor", "type": "page_view", "url": "https://example.jp/"}])

    assert poller.poll_once() >= 6  # claim, profile, event, consent, dedupe, identity, anonymous hit

    (record,) = received["scoring"]
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb" and record["eventVersion"] == "1.1"
    assert record["awsRegion"] == "ap-northeast-1"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:ap-northeast-1:")
    assert {"Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"} <= set(record["dynamodb"])
    assert record["dynamodb"]["Keys"]["PK"]["S"].startswith("LEAD#")
    assert record["dynamodb"]["NewImage"]["type"]["S"] == "form_submit"
    assert received["handoff"] == []


def test_published_stream_records_of_other_tables_match_no_consumer():
    for name in ("samcli__dynamodb-update.json", "awsdocs__lambda-dg-dynamodb-stream.json",
                 "powertools__dynamoStreamEvent.json"):
        for record in json.loads((SHARED_EVENTS / name).read_text(encoding="utf-8"))["Records"]:
            assert not any(matches(pattern, record) for f in TABLE.stream_filters for pattern in f.patterns)


@pytest.mark.parametrize(
    ("keys", "event_name", "consumer"),
    [
        ({"PK": "LEAD#1", "SK": "EVT#2026-01-01T00:00:00.000000Z#e"}, "INSERT", ["scoring"]),
        ({"PK": "LEAD#1", "SK": "HANDOFF#h1"}, "INSERT", ["handoff"]),
        ({"PK": "LEAD#1", "SK": "EVT#2026-01-01T00:00:00.000000Z#e"}, "MODIFY", None),
        ({"PK": "LEAD#1", "SK": "PROFILE"}, "INSERT", None),
        ({"PK": "VISITOR#v", "SK": "EVT#2026-01-01T00:00:00.000000Z#e"}, "INSERT", None),
    ],
)
def test_filters_select_exactly_their_records(keys, event_name, consumer):
    record = {"eventName": event_name, "dynamodb": {"Keys": {k: {"S": v} for k, v in keys.items()},
                                                    "NewImage": {"type": {"S": "page_view"}}}}
    assert selected_by(record) == (consumer or [])


@pytest.mark.parametrize("kind", ["sales_feedback", "owner_changed", "call_outcome"])
def test_what_sales_did_goes_to_the_scorer_and_the_crm_push(kind):
    record = {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "LEAD#1"}, "SK": {"S": "EVT#t#e"}},
                                                  "NewImage": {"type": {"S": kind}}}}
    assert selected_by(record) == ["scoring", "handoff"]


def selected_by(record: dict) -> list[str]:
    return [f.consumer for f in TABLE.stream_filters if any(matches(pattern, record) for pattern in f.patterns)]


def test_a_binary_value_reaches_a_consumer_base64_encoded_as_lambda_delivers_it_and_is_read_as_its_bytes():
    import boto3

    from nurture.streams.records import stream_records

    poller, received = poller_with_recorder()
    boto3.client("dynamodb").put_item(TableName=LocalResources().table_name, Item={
        "PK": {"S": "LEAD#binary"}, "SK": {"S": "EVT#2026-12-05#1"}, "type": {"S": "page_view"},
        "blob": {"B": b"\x00\xff"}, "nested": {"M": {"blobs": {"BS": [b"\x01"]}}}})
    poller.poll_once()
    (record,) = received["scoring"]
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    assert record["dynamodb"]["NewImage"]["nested"] == {"M": {"blobs": {"BS": ["AQ=="]}}}
    (read,) = stream_records({"Records": [record]})
    assert read.new_image is not None and bytes(read.new_image["blob"]) == b"\x00\xff"
