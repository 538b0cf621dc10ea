"""The queue of alerts to salespeople and of the CRM push's events: the handoff publisher fills it, the notifier
consumes it."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.handoff_queue import SqsQueue
from nurture.domain.sales.alerts import AlertJob
from nurture.domain.sales.crm import CrmJob
from nurture.observability import logger


class AlertQueue(SqsQueue):
    def send_jobs(self, jobs: Sequence[AlertJob | CrmJob]) -> None:
        self._send_bodies([job.to_json() for job in jobs])

    def delay(self, receipt_handle: str, seconds: int) -> None:
        """The failed message comes back in `seconds` rather than after the queue's visibility timeout."""
        try:
            self._sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt_handle,
                                                VisibilityTimeout=seconds)
        except (ClientError, BotoCoreError):
            logger.warning("alert retry not delayed: it comes back after the visibility timeout")
