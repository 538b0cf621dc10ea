"""The SQS FIFO queue hot leads are handed to sales through."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.aws import client
from nurture.domain.errors import StoreUnavailable


class SqsQueue:
    """Base of the queue adapters: the queue's URL and a lazily created, injectable client."""

    def __init__(self, queue_url: str, sqs: Any | None = None):
        self.url = queue_url
        self._client = sqs

    @property
    def _sqs(self) -> Any:
        return self._client or client("sqs")

    def _send_bodies(self, bodies: list[str]) -> None:
        """Ten at a time, as SendMessageBatch allows; any refusal is StoreUnavailable (the caller retries)."""
        for start in range(0, len(bodies), 10):
            entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies[start:start + 10])]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as error:
                raise StoreUnavailable(f"SQS send failed: {type(error).__name__}") from error
            if response.get("Failed"):
                raise StoreUnavailable(f"SQS refused {len(response['Failed'])} message(s)")


class HandoffQueue(SqsQueue):

    def send(self, body: str, handoff_id: str, lead_id: str) -> None:
        """FIFO dedup by handoff id: a retried send within five minutes is dropped by SQS itself."""
        try:
            self._sqs.send_message(QueueUrl=self.url, MessageBody=body, MessageGroupId=lead_id,
                                   MessageDeduplicationId=handoff_id)
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"SQS send failed: {type(error).__name__}") from error

    def receive(self, max_messages: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=min(max_messages, 10),
                                             WaitTimeSeconds=wait_seconds)
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def delete(self, receipt_handle: str) -> None:
        self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)
