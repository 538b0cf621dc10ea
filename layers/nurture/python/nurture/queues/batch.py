"""Partial batch answers for the SQS consumers: only the failed messages are named back, so SQS redelivers those
(and, after the queue's receive count, dead-letters them) while the rest are deleted. The event source mapping must
report batch item failures (infra: `report_batch_item_failures`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

from nurture.partial_batch import answer_each, event_records


class NotAnSqsBatch(ValueError):
    """The invocation's event is not an SQS batch: the whole invocation fails, nothing is taken off a queue."""


class QueueMessage(Struct, frozen=True):
    """What a consumer reads of an SQS record."""

    message_id: str
    body: str
    receipt_handle: str
    receive_count: int  # 1 on the first delivery

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> QueueMessage:
        attributes = record.get("attributes") or {}
        return cls(message_id=str(record["messageId"]), body=str(record.get("body") or ""),
                   receipt_handle=str(record.get("receiptHandle") or ""),
                   receive_count=int(attributes.get("ApproximateReceiveCount") or 1))

    def json_body(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body)


def partial_response(event: Mapping[str, Any], handle: Callable[[QueueMessage], None]) -> dict[str, Any]:
    """Handle every message of an SQS batch; the answer names those whose handling raised (or that were malformed)."""
    records = event_records(event, lambda record: "messageId" in record)
    if records is None:
        raise NotAnSqsBatch("the event is not an SQS batch: no Records list of messages with a messageId")
    return answer_each(records, lambda record: str(record["messageId"]),
                       lambda record: handle(QueueMessage.of(record)), "sqs_message_id")
