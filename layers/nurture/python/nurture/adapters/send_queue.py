"""The SQS queue between the dispatcher and the sender."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.handoff_queue import SqsQueue
from nurture.domain.dispatch import StepMessage
from nurture.domain.errors import StoreUnavailable

BATCH = 10  # SendMessageBatch's limit


class SendQueue(SqsQueue):

    def send_batch(self, messages: list[StepMessage]) -> None:
        for start in range(0, len(messages), BATCH):
            chunk = messages[start:start + BATCH]
            entries = [{"Id": str(n), "MessageBody": m.model_dump_json()} for n, m in enumerate(chunk)]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as error:
                raise StoreUnavailable(f"SQS send failed: {type(error).__name__}") from error
            if response.get("Failed"):
                # The claimed leads' leases run out and they become due again: nothing is lost.
                raise StoreUnavailable(f"SQS refused {len(response['Failed'])} message(s)")
