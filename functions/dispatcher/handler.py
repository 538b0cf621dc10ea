"""Dispatcher function: each EventBridge Scheduler tick, queue the leads whose step email is due."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture import keys
from nurture.adapters.dispatch_store import DynamoDispatchStore
from nurture.adapters.send_queue import SendQueue
from nurture.domain.clock import utc_now
from nurture.domain.dispatch import tick
from nurture.observability import logger, metrics, tracer
from nurture.settings import pin_config, runtime_settings


@cache
def collaborators() -> tuple[DynamoDispatchStore, SendQueue]:
    settings = runtime_settings()
    return DynamoDispatchStore(settings.table_name), SendQueue(settings.send_queue_url)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry personal data: not into traces
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The schedule's payload carries nothing we need: the tick is about "now".
    store, queue = collaborators()
    result = tick(store, queue, utc_now(), keys.DUE_SHARDS)
    metrics.add_metric(name="StepsDispatched", unit="Count", value=result.claimed)
    if result.lost_races:
        logger.info("due leads claimed by another tick", extra={"count": result.lost_races})
    if result.paused:
        logger.warning("sending is paused by the deliverability guard: nothing dispatched")
        return {"due": 0, "dispatched": 0, "lost_races": 0, "paused": True}
    return {"due": result.due, "dispatched": result.claimed, "lost_races": result.lost_races}
