"""Audience function: one part of a segment scan per message, resumable from its last key."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.audience_queue import AudienceQueue
from nurture.adapters.audience_store import DynamoAudienceStore
from nurture.adapters.campaign_store import DynamoCampaignStore
from nurture.adapters.send_queue import SendQueue
from nurture.domain.clock import utc_now
from nurture.observability import logger, metrics, traced
from nurture.queues.audience import handle_batch
from nurture.settings import config_version, pin_config, runtime_settings


@cache
def collaborators() -> tuple[DynamoAudienceStore, AudienceQueue, SendQueue, DynamoCampaignStore]:
    settings = runtime_settings()
    return (DynamoAudienceStore(settings.table_name), AudienceQueue(settings.audience_queue_url),
            SendQueue(settings.send_queue_url), DynamoCampaignStore(settings.table_name))


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, queue, members, campaigns = collaborators()
    return handle_batch(event, context, store, queue, members, campaigns.state, config_version, utc_now)
