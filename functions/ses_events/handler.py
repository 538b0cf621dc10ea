"""SES events function: bounces, complaints, deliveries, opens and clicks, from EventBridge through SQS."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
from nurture.adapters.ses_event_store import DynamoSesEventStore
from nurture.domain.clock import utc_now
from nurture.observability import logger, metrics, traced
from nurture.queues.ses_events import handle_batch
from nurture.settings import marketer_config, pin_config, runtime_settings


@cache
def collaborators() -> tuple[DynamoSesEventStore, DynamoDeliverabilityStore]:
    table = runtime_settings().table_name
    return DynamoSesEventStore(table), DynamoDeliverabilityStore(table)


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, guard = collaborators()
    return handle_batch(event, store, guard, marketer_config(), utc_now)
