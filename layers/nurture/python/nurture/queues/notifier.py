"""The notifier's queue consumer: each message is one alert to one channel of one salesperson, or one event to one
target of the CRM push. A failure fails that message alone, which comes back later and later (exponential backoff)
until the queue dead-letters it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from nurture.config.sales import SalesConfig
from nurture.domain.messages import MessageInvalid
from nurture.domain.sales.alerts import AlertJob, AlertMailer, AlertNotDelivered, WebhookPoster, deliver
from nurture.domain.sales.crm import CrmJob, CrmStore, deliver_crm
from nurture.observability import logger
from nurture.queues.batch import QueueMessage, partial_response

FIRST_RETRY_SECONDS = 30
LAST_RETRY_SECONDS = 900  # no wait longer than a quarter of an hour; ALERT_QUEUE_RECEIVES bounds the tries


def read_job(body: str) -> AlertJob | CrmJob:
    """The alerts queue's message: a CRM job by its kind, else an alert; MessageInvalid when it is neither."""
    data = msgspec.json.decode(body)
    if not isinstance(data, dict):
        raise MessageInvalid("a job is a JSON object")
    return CrmJob.of(**data) if data.get("kind") == "crm" else AlertJob.of(**data)


def retry_delay(receive_count: int) -> int:
    """30 s, 60 s, 120 s, 240 s ...: a receiver that is down is not hammered, one that blinked is soon reached."""
    return min(LAST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, receive_count - 1))


def handle_batch(event: dict[str, Any], sales: SalesConfig, store: CrmStore,
                 mailer: AlertMailer, poster: WebhookPoster, delay: Callable[[str, int], None],
                 clock: Callable[[], datetime]) -> dict[str, Any]:

    def notify(message: QueueMessage) -> None:
        job = read_job(message.body)  # unreadable: fails, and is dead-lettered in the end
        if isinstance(job, CrmJob):
            delivery, lead_id, channel = job.delivery_id, job.event.lead.lead_id, job.target
        else:
            delivery, lead_id, channel = job.alert_id, job.handoff.lead_id, job.channel
        try:
            if isinstance(job, CrmJob):
                outcome = deliver_crm(job, sales, store, poster, clock())
            else:
                outcome = deliver(job, sales, store, mailer, poster, clock())
        except AlertNotDelivered as failure:
            attempt = message.receive_count
            delay(message.receipt_handle, retry_delay(attempt))
            logger.warning("not delivered", extra={"delivery_id": delivery, "channel": channel, "attempt": attempt,
                                                   "reason": str(failure)})
            raise
        logger.info("delivered", extra={"delivery_id": delivery, "lead_id": lead_id, "channel": channel,
                                        "outcome": outcome})

    return partial_response(event, notify)
