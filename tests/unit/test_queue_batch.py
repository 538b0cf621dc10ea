"""The SQS consumers' partial batch answer, on the SQS events AWS publishes."""

import json
import logging

import pytest

from nurture.queues.batch import NotAnSqsBatch, QueueMessage, partial_response
from tests.conftest import SHARED_EVENTS

SQS_EVENTS = ("awsdocs__lambda-dg-sqs-standard.json", "awsdocs__lambda-dg-sqs-fifo.json", "powertools__sqsEvent.json")


def aws_event(name: str) -> dict:
    return json.loads((SHARED_EVENTS / name).read_text())


@pytest.mark.parametrize("name", SQS_EVENTS)
def test_every_message_of_a_published_sqs_event_is_handled_and_none_is_named_when_all_succeed(name):
    event = aws_event(name)
    seen: list[QueueMessage] = []
    assert partial_response(event, seen.append) == {"batchItemFailures": []}
    assert [m.message_id for m in seen] == [r["messageId"] for r in event["Records"]]
    assert [m.body for m in seen] == [r["body"] for r in event["Records"]]
    assert all(m.receive_count >= 1 and m.receipt_handle for m in seen)


def test_only_the_message_that_failed_is_named_for_redelivery_and_its_error_text_is_not_logged(caplog):
    event = aws_event("awsdocs__lambda-dg-sqs-standard.json")
    failing = event["Records"][1]["messageId"]

    def handle(message: QueueMessage) -> None:
        if message.message_id == failing:
            raise ValueError("taro@example.co.jp is not welcome")

    with caplog.at_level(logging.WARNING):
        assert partial_response(event, handle) == {"batchItemFailures": [{"itemIdentifier": failing}]}
    (line,) = caplog.records
    assert line.sqs_message_id == failing  # type: ignore[attr-defined]
    assert line.error == "ValueError"  # type: ignore[attr-defined]
    assert "taro" not in caplog.text


def test_a_batch_whose_every_message_failed_is_answered_message_by_message():
    event = aws_event("powertools__sqsEvent.json")

    def handle(message: QueueMessage) -> None:
        raise RuntimeError("down")

    answer = partial_response(event, handle)
    assert answer == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


def test_a_record_with_a_malformed_attribute_fails_alone():
    event = aws_event("awsdocs__lambda-dg-sqs-standard.json")
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "many"
    handled: list[QueueMessage] = []
    answer = partial_response(event, handled.append)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert [m.message_id for m in handled] == [event["Records"][1]["messageId"]]


def test_the_receive_count_comes_from_the_record_attributes():
    record = {**aws_event("awsdocs__lambda-dg-sqs-standard.json")["Records"][0]}
    record["attributes"] = {**record["attributes"], "ApproximateReceiveCount": "4"}
    assert QueueMessage.of(record).receive_count == 4
    assert QueueMessage.of({"messageId": "m", "body": "{}"}).receive_count == 1
    assert QueueMessage.of({"messageId": "m", "body": '{"a": 1}'}).json_body() == {"a": 1}


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, {"Records": [{"body": "no id"}]},
                                   aws_event("awsdocs__lambda-dg-dynamodb-stream.json")])
def test_an_event_that_is_not_an_sqs_batch_fails_the_invocation_before_any_message_is_handled(event):
    handled: list[QueueMessage] = []
    with pytest.raises(NotAnSqsBatch):
        partial_response(event, handled.append)
    assert handled == []
