"""Scoring function: new activity of leads, from the table's stream, rescored per lead per batch; the double
opt-in confirmations posts asked for queued for the sender."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.scoring_store import DynamoScoringStore
from nurture.adapters.send_queue import SendQueue
from nurture.domain.clock import utc_now
from nurture.observability import logger, metrics, traced
from nurture.settings import pin_config, runtime_settings
from nurture.streams.scoring import handle_batch


@cache
def collaborators() -> tuple[DynamoScoringStore, SendQueue]:
    settings = runtime_settings()
    return DynamoScoringStore(settings.table_name), SendQueue(settings.send_queue_url)


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, send_queue = collaborators()
    return handle_batch(event, store, utc_now(), send_queue)
