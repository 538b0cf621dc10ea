"""Handoff function: new HANDOFF# outbox items, from the table's stream, to the SQS FIFO queue and the alerts
queue."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.account_store import DynamoAccountStore
from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.handoff_queue import HandoffQueue
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.domain.clock import utc_now
from nurture.observability import logger, metrics, traced
from nurture.settings import pin_config, runtime_settings
from nurture.streams.handoff import handle_batch


@cache
def collaborators() -> tuple[DynamoLeadStore, DynamoAccountStore, HandoffQueue, AlertQueue]:
    settings = runtime_settings()
    return (DynamoLeadStore(settings.table_name), DynamoAccountStore(settings.table_name),
            HandoffQueue(settings.handoff_queue_url), AlertQueue(settings.alert_queue_url))


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, accounts, queue, alerts = collaborators()
    return handle_batch(event, store, accounts, queue, alerts, runtime_settings().public_api_url, utc_now())
