"""Console function: the marketer's console's API (/v1/console/...), behind the HTTP API's JWT authorizer."""

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.http.app import HttpApi
from nurture.http.console_routes import register_console_routes
from nurture.observability import logger, metrics, traced
from nurture.settings import active_config, marketer_config, pin_config


@lru_cache(maxsize=2)
def api(config_version: int) -> HttpApi:
    """One per config version: CORS comes from the config."""
    return HttpApi([register_console_routes], marketer_config().api.cors)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api(active_config().version).resolve(event, context)
