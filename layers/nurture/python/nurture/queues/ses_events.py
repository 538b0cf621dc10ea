"""The SES events consumer: each SQS record is one SNS notification (or raw SES record) of one email."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.config import NurtureConfig
from nurture.domain.ses_events import SesEventStore, apply_events, parse_body
from nurture.observability import logger, metrics

# A batch whose every record failed is still answered record by record, not with an exception.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
METRICS = {"delivery": "EmailsDelivered", "bounce": "EmailsBounced", "complaint": "EmailsComplained",
           "open": "EmailOpensFromSes", "click": "EmailClicksFromSes", "reject": "EmailsRejected"}


def handle_batch(event: dict[str, Any], context: LambdaContext, store: SesEventStore,
                 config: NurtureConfig) -> dict[str, Any]:
    def record_events(record: SQSRecord) -> None:
        # An unreadable body raises here: that record alone fails, and after a few receives sits in the DLQ.
        events = parse_body(record.body)
        applied = apply_events(events, store, config.api.event_retention_days,
                               config.sequences.deliverability.transient_bounces_to_suppress, config.bots)
        for effect in applied:
            if effect.event.kind in METRICS:
                metrics.add_metric(name=METRICS[effect.event.kind], unit="Count", value=1)
            if effect.suppress:
                metrics.add_metric(name="AddressesSuppressed", unit="Count", value=1)
        logger.info("ses events", extra={"kinds": sorted({e.kind for e in events}), "applied": len(applied),
                                         "duplicates": len(events) - len(applied),
                                         "leads": sorted({e.address.lead_id for e in applied if e.address.lead_id})})

    return dict(process_partial_response(event=event, record_handler=record_events, processor=processor,
                                         context=context))
