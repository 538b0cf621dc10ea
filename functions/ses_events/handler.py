"""SES events function: bounces, complaints, deliveries, opens and clicks, from SNS through SQS."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.ses_event_store import DynamoSesEventStore
from nurture.observability import logger, metrics, tracer
from nurture.queues.ses_events import handle_batch
from nurture.settings import marketer_config, runtime_settings


@cache
def store() -> DynamoSesEventStore:
    return DynamoSesEventStore(runtime_settings().table_name)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry personal data: not into traces
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, store(), marketer_config())
