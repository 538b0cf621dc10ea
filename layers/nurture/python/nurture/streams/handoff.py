"""The handoff publisher's stream consumer: each new HANDOFF# outbox item becomes one FIFO message for sales
tooling, and one alert job per channel of the person to tell."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.handoff_queue import HandoffQueue
from nurture.domain.clock import iso
from nurture.domain.handoff import handoff_message
from nurture.domain.leads import LeadRecord
from nurture.domain.sales.alerts import alert_jobs
from nurture.observability import logger
from nurture.settings import marketer_config

# A batch whose every record failed is still answered record by record, not with an exception.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


class HandoffStore(Protocol):
    def lead_record(self, lead_id: str, activity_limit: int = 50, ledger_limit: int = 1000) -> LeadRecord | None: ...

    def handoff_published(self, lead_id: str, handoff_id: str) -> bool: ...

    def mark_handoff_published(self, lead_id: str, handoff_id: str, at: str) -> None: ...


class NotAHandoff(ValueError):
    pass


def handle_batch(event: dict[str, Any], context: LambdaContext, store: HandoffStore, queue: HandoffQueue,
                 alerts: AlertQueue, api_base: str, now: datetime) -> dict[str, Any]:
    config = marketer_config()

    def publish(record: DynamoDBRecord) -> None:
        image = record.dynamodb.new_image if record.dynamodb else None
        if not image or "handoff_id" not in image or "lead_id" not in image:
            raise NotAHandoff("not a HANDOFF# outbox item")
        lead_id, handoff_id = str(image["lead_id"]), str(image["handoff_id"])
        if store.handoff_published(lead_id, handoff_id):
            # A stream retry after SQS's five-minute deduplication window: sales have it already.
            return
        lead = store.lead_record(lead_id, activity_limit=20)
        if lead is None:
            logger.info("handoff of an erased lead dropped", extra={"lead_id": lead_id})
            return
        message = handoff_message(image, lead, config.scoring, now, api_base, config.sales)
        # A failure here fails this record only; the stream retries it, and FIFO dedup by
        # handoff id keeps a retried send from reaching sales twice.
        queue.send(message.model_dump_json(), message.handoff_id, lead_id)
        # Before the mark, so a retry queues the alerts again rather than never; the notifier sends each once.
        jobs = alert_jobs(message, config.sales)
        alerts.send_jobs(jobs)
        store.mark_handoff_published(lead_id, handoff_id, iso(now))
        logger.info("lead handed off", extra={"lead_id": lead_id, "handoff_id": message.handoff_id,
                                              "alerts": len(jobs)})

    return dict(process_partial_response(event=event, record_handler=publish, processor=processor, context=context))
