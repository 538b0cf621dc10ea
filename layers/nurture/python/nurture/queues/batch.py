"""Partial batch answers for the SQS consumers: each message is handled on its own and only the failed ones are
named back, so SQS redelivers those (and, after the queue's receive count, dead-letters them) while the rest are
deleted. The event source mapping must report batch item failures (infra: `report_batch_item_failures`).

Written here rather than with Powertools' BatchProcessor: importing it brings asyncio and every one of Powertools'
event data classes, about 40 ms of each consumer's cold start, for a loop of a few lines (docs/decisions.md, 97).
The DynamoDB stream consumers keep Powertools' processor and its stream record types, which they use."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nurture.observability import logger


class NotAnSqsBatch(ValueError):
    """The invocation's event is not an SQS batch: the whole invocation fails, nothing is taken off a queue."""


@dataclass(frozen=True)
class QueueMessage:
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
    """Handle every record of an SQS batch; the answer names those whose handling raised. A batch whose every
    record failed is answered the same way, record by record, not with an exception."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not all(isinstance(r, Mapping) and "messageId" in r for r in records):
        raise NotAnSqsBatch("the event is not an SQS batch: no Records list of messages with a messageId")
    failures = []
    for record in records:
        try:
            handle(QueueMessage.of(record))  # a malformed attribute is that message's failure too
        except Exception as error:  # any failure of one message is that message's alone
            # The exception's type only: its text may quote a lead's values.
            logger.warning("message not handled: SQS delivers it again",
                           extra={"sqs_message_id": str(record["messageId"]), "error": type(error).__name__})
            failures.append({"itemIdentifier": str(record["messageId"])})
    return {"batchItemFailures": failures}
