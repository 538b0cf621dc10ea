"""Notifier function: tells a hot lead's owner at once, by email, Slack, Teams or a signed webhook."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.alerts import DynamoAlertStore, SesAlertMailer, WebhookClient
from nurture.domain.clock import utc_now
from nurture.observability import logger, metrics, traced
from nurture.queues.notifier import handle_batch
from nurture.settings import marketer_config, pin_config, runtime_settings


@cache
def collaborators() -> tuple[DynamoAlertStore, SesAlertMailer, WebhookClient, AlertQueue]:
    settings = runtime_settings()
    return (DynamoAlertStore(settings.table_name), SesAlertMailer(settings.sender_address),
            WebhookClient(settings.webhook_parameters), AlertQueue(settings.alert_queue_url))


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, mailer, webhooks, queue = collaborators()
    return handle_batch(event, marketer_config().sales, store, mailer, webhooks, queue.delay, utc_now)
