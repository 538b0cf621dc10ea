"""The table's stream consumers' records and partial batch answer, on the DynamoDB stream events AWS publishes."""

import json
import logging
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from nurture.streams.records import (
    NotAStreamBatch,
    StreamRecord,
    UnreadableRecord,
    stream_partial_response,
    stream_records,
)
from tests.conftest import SHARED_EVENTS

STREAM_EVENTS = ("awsdocs__lambda-dg-dynamodb-stream.json", "powertools__dynamoStreamEvent.json",
                 "samcli__dynamodb-update.json")


def aws_event(name: str) -> dict:
    return json.loads((SHARED_EVENTS / name).read_text())


@pytest.mark.parametrize("name", STREAM_EVENTS)
def test_every_record_of_a_published_stream_event_is_read_in_order_with_plain_values(name):
    event = aws_event(name)
    seen: list[StreamRecord] = []
    assert stream_partial_response(stream_records(event), seen.append) == {"batchItemFailures": []}
    assert [r.sequence_number for r in seen] == [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert all(r.event_source_arn == raw["eventSourceARN"] for r, raw in zip(seen, event["Records"], strict=True))
    first = seen[0]
    assert first.keys == {"Id": Decimal(101)}
    assert first.new_image == {"Message": "New item!", "Id": Decimal(101)}


def test_a_removed_item_has_no_new_image():
    removed = stream_records(aws_event("samcli__dynamodb-update.json"))[2]
    assert removed.new_image is None
    assert removed.keys == {"Id": Decimal(101)}


def test_only_the_record_that_failed_is_named_by_its_sequence_number_and_its_error_text_is_not_logged(caplog):
    records = stream_records(aws_event("awsdocs__lambda-dg-dynamodb-stream.json"))

    def handle(record: StreamRecord) -> None:
        if record.sequence_number == "222":
            raise ValueError("taro@example.co.jp is not welcome")

    with caplog.at_level(logging.WARNING):
        assert stream_partial_response(records, handle) == {"batchItemFailures": [{"itemIdentifier": "222"}]}
    (line,) = caplog.records
    assert line.sequence_number == "222"  # type: ignore[attr-defined]
    assert line.error == "ValueError"  # type: ignore[attr-defined]
    assert "taro" not in caplog.text


def test_a_batch_whose_every_record_failed_is_answered_record_by_record():
    event = aws_event("samcli__dynamodb-update.json")

    def handle(record: StreamRecord) -> None:
        raise RuntimeError("down")

    answer = stream_partial_response(stream_records(event), handle)
    assert answer == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                                            for r in event["Records"]]}


def test_a_record_whose_image_is_not_dynamodb_json_fails_alone():
    event = aws_event("awsdocs__lambda-dg-dynamodb-stream.json")
    event["Records"][0]["dynamodb"]["NewImage"] = {"Message": {"X": "no such type"}}
    records = stream_records(event)
    with pytest.raises(UnreadableRecord):
        _ = records[0].new_image
    read: list[dict] = []

    def handle(record: StreamRecord) -> None:
        read.append(record.new_image or {})

    assert stream_partial_response(records, handle) == {"batchItemFailures": [{"itemIdentifier": "111"}]}
    assert read == [{"Message": "This item has changed", "Id": Decimal(101)}]


def test_binary_values_in_an_image_are_read_as_the_bytes_lambda_base64_encoded_and_a_bad_one_fails_alone():
    event = aws_event("awsdocs__lambda-dg-dynamodb-stream.json")
    event["Records"][0]["dynamodb"]["NewImage"] = {
        "Id": {"N": "101"}, "Blob": {"B": "AP8="}, "Blobs": {"BS": ["AQ==", "Ag=="]},
        "Nested": {"M": {"list": {"L": [{"B": "Aw=="}, {"S": "text"}]}}}}
    event["Records"][1]["dynamodb"]["NewImage"] = {"Id": {"N": "101"}, "Blob": {"B": "not base64!"}}
    first, second = stream_records(event)[:2]
    assert first.new_image == {"Id": Decimal(101), "Blob": Binary(b"\x00\xff"),
                               "Blobs": {Binary(b"\x01"), Binary(b"\x02")},
                               "Nested": {"list": [Binary(b"\x03"), "text"]}}
    with pytest.raises(UnreadableRecord):
        _ = second.new_image


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, {"Records": [{"dynamodb": {"Keys": {}}}]},
                                   aws_event("awsdocs__lambda-dg-sqs-standard.json")])
def test_an_event_that_is_not_a_stream_batch_fails_the_invocation_before_any_record_is_read(event):
    with pytest.raises(NotAStreamBatch):
        stream_records(event)
