"""What Lambda's SQS event source mapping and EventBridge Scheduler do, for the local runtime."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

from nurture.local.log import log as logger

Consumer = Callable[[dict[str, Any]], Any]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Received messages as the event source mapping hands them to a function."""
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def scheduled_event(region: str, at: datetime | None = None) -> dict[str, Any]:
    """An EventBridge Scheduler invocation of a Lambda target (its default payload)."""
    moment = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"version": "0", "id": "local", "detail-type": "Scheduled Event", "source": "aws.scheduler",
            "account": "123456789012", "time": moment, "region": region, "resources": [], "detail": {}}


class QueuePoller:
    """Receive, invoke, delete what succeeded; failed records come back after the visibility timeout."""

    def __init__(self, queue_url: str, region: str, consumer: Consumer, batch_size: int = 10,
                 retry_at_once: bool = False):
        sqs = boto3.session.Session(region_name=region).client("sqs")
        self._sqs = sqs
        self._url = queue_url
        self._region = region
        self._consumer = consumer
        self._batch_size = batch_size
        # The simulation's clock stands still while it drains: a failed record is made visible again
        # at once instead of after the visibility timeout, which would only come at the next tick.
        self._retry_at_once = retry_at_once
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def poll_once(self) -> int:
        messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=self._batch_size,
                                             AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        try:
            response = self._consumer(sqs_event(messages, self._arn, self._region))
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception:
            logger.exception("queue consumer raised")
            failed = {m["MessageId"] for m in messages}
        if self._retry_at_once:
            self._in_batches(self._sqs.change_message_visibility_batch,
                             [m for m in messages if m["MessageId"] in failed], VisibilityTimeout=0)
        self._in_batches(self._sqs.delete_message_batch, [m for m in messages if m["MessageId"] not in failed])
        return len(messages)

    def _in_batches(self, call: Callable[..., Any], messages: list[dict[str, Any]], **entry: Any) -> None:
        """`call` (an SQS batch action) for `messages`, ten at a time as SQS allows."""
        for start in range(0, len(messages), 10):
            call(QueueUrl=self._url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], **entry}
                                              for n, m in enumerate(messages[start:start + 10])])

    def drain(self, rounds: int = 100) -> int:
        total = 0
        for _ in range(rounds):
            received = self.poll_once()
            if received == 0:
                break
            total += received
        return total


class Repeater(threading.Thread):
    """Call `action` every `interval` seconds until stopped; a failure is logged, never fatal."""

    def __init__(self, name: str, interval: float, action: Callable[[], Any]):
        super().__init__(name=name, daemon=True)
        self._interval = interval
        self._action = action
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._action()
            except Exception:
                logger.exception("periodic task failed", extra={"task": self.name})
