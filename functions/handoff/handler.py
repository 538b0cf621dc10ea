"""Handoff function: new HANDOFF# outbox items, from the table's stream, to the SQS FIFO queue."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.handoff_queue import HandoffQueue
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.domain.clock import utc_now
from nurture.observability import logger, metrics, tracer
from nurture.settings import pin_config, runtime_settings
from nurture.streams.handoff import handle_batch


@cache
def collaborators() -> tuple[DynamoLeadStore, HandoffQueue]:
    settings = runtime_settings()
    return DynamoLeadStore(settings.table_name), HandoffQueue(settings.handoff_queue_url)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry personal data: not into traces
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, queue = collaborators()
    return handle_batch(event, context, store, queue, runtime_settings().public_api_url, utc_now())
