"""One API object per function: its route sets on one router, and domain errors mapped to answers here only.

Routes are registered by plain functions (`RouteSet`), so the OpenAPI document is built from the same
registrations, and a REST API put in front (for WAF or usage plans) is served by the same routes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.config.models import CorsSettings
from nurture.domain.errors import InputError, MalformedBody, StoreUnavailable
from nurture.http.problems import input_problem, problem
from nurture.http.requests import read_request
from nurture.http.router import Cors, DeferredRoutes, MethodNotAllowed, Response, RouteNotFound, Router, proxy_answer
from nurture.observability import logger, metrics, traced
from nurture.settings import active_config, marketer_config, pin_config

RouteSet = Callable[[Router], None]


def router(route_sets: Sequence[RouteSet | DeferredRoutes], cors: CorsSettings | None = None) -> Router:
    """The routes of `route_sets` (a deferred set's when a request first needs it), with every domain error
    mapped to its answer."""
    app = Router(Cors(tuple(cors.allow_origins)) if cors and cors.allow_origins else None)

    @app.exception_handler(InputError)
    def _input(error: InputError) -> Response:
        # Only the schema's own field names: a path may go on into keys the caller chose (a type, a prop's name),
        # and an unknown field's name is the caller's.
        logger.info("rejected request", extra={"problem": error.slug, "fields": sorted(
            {p.field.split(".")[0] for p in error.problems if p.code != "unknown"})})
        return input_problem(error, app.current_request.path)

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable(_: UnicodeDecodeError) -> Response:
        return input_problem(MalformedBody("The body is not valid UTF-8."), app.current_request.path)

    @app.exception_handler(StoreUnavailable)
    def _unavailable(error: StoreUnavailable) -> Response:
        logger.warning("store unavailable", extra={"reason": str(error)})
        return problem(503, "unavailable", "Temporarily unavailable", "Please retry shortly.",
                       app.current_request.path, headers={"Retry-After": "2"})

    @app.exception_handler(RouteNotFound)
    def _not_found(_: RouteNotFound) -> Response:
        return problem(404, "not-found", "Not found", "No such route.", app.current_request.path)

    @app.exception_handler(MethodNotAllowed)
    def _not_allowed(error: MethodNotAllowed) -> Response:
        return problem(405, "method-not-allowed", "Method not allowed", f"This route answers {error}.",
                       app.current_request.path, headers={"Allow": str(error)})

    for route_set in route_sets:
        if isinstance(route_set, DeferredRoutes):
            app.defer(route_set)
        else:
            route_set(app)
    return app


class HttpApi:
    def __init__(self, route_sets: Sequence[RouteSet | DeferredRoutes], cors: CorsSettings):
        self.router = router(route_sets, cors)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = read_request(event)
        if request is None:
            logger.warning("not an API Gateway proxy event", extra={"keys": sorted(event)[:20]})
            response = problem(400, "unsupported-event", "Unsupported event", "This function serves API Gateway only.")
            return proxy_answer(response, {}, http_api=False)
        return self.router.resolve(request)


Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def api_handler(route_sets: Sequence[RouteSet | DeferredRoutes]) -> Handler:
    """An API function's `lambda_handler`: its routes on one router per config version (CORS comes from the
    config), with the decorators every function has, in the same order."""

    @lru_cache(maxsize=2)
    def api(config_version: int) -> HttpApi:
        return HttpApi(route_sets, marketer_config().api.cors)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    @traced
    @pin_config
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return api(active_config().version).resolve(event, context)

    return lambda_handler
