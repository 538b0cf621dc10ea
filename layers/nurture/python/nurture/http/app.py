"""One API object per function: HTTP API (payload 2.0) and REST (1.0) resolvers with the same routes.

Routes are registered by plain functions (`RouteSet`) on each resolver, so a REST API put in front
for WAF or usage plans is served the same way, and domain errors are mapped to responses here only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.config.models import CorsSettings
from nurture.domain.errors import FieldProblem, InputError, MalformedBody, StoreUnavailable, ValidationFailed
from nurture.http.problems import input_problem, problem
from nurture.observability import logger

RouteSet = Callable[[ApiGatewayResolver], None]
ALLOWED_HEADERS = ["Content-Type", "Idempotency-Key"]


def cors_config(settings: CorsSettings) -> CORSConfig | None:
    if not settings.allow_origins:
        return None
    first, *rest = settings.allow_origins
    return CORSConfig(allow_origin=first, extra_origins=rest, allow_headers=ALLOWED_HEADERS, max_age=600)


class HttpApi:
    def __init__(self, route_sets: Sequence[RouteSet], cors: CorsSettings):
        self.http = _resolver(APIGatewayHttpResolver, route_sets, cors)
        self.rest = _resolver(APIGatewayRestResolver, route_sets, cors)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if event.get("version") == "2.0":
            return self.http.resolve(event, context)
        if "httpMethod" in event:  # REST API proxy, or HTTP API with payload format 1.0
            return self.rest.resolve(event, context)
        logger.warning("not an API Gateway proxy event", extra={"keys": sorted(event)[:20]})
        response = problem(400, "unsupported-event", "Unsupported event", "This function serves API Gateway only.")
        return {"statusCode": response.status_code, "headers": response.headers, "body": response.body}


def _resolver(kind: type[ApiGatewayResolver], route_sets: Sequence[RouteSet], cors: CorsSettings) -> ApiGatewayResolver:
    app = kind(enable_validation=True, cors=cors_config(cors))  # type: ignore[call-arg]

    @app.exception_handler(InputError)
    def _input(error: InputError) -> Response:
        # Only the schema's own field names: a path may go on into keys the caller chose (a type, a prop's name).
        logger.info("rejected request", extra={"problem": error.slug,
                                               "fields": sorted({p.field.split(".")[0] for p in error.problems})})
        return input_problem(error, app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        problems = [
            FieldProblem(".".join(str(part) for part in item.get("loc", ())[1:]) or "request",
                         str(item.get("type", "invalid")), str(item.get("msg", "is invalid")))
            for item in error.errors()
        ]
        return input_problem(ValidationFailed("The request is invalid.", problems), app.current_event.path)

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable(_: UnicodeDecodeError) -> Response:
        # Powertools decodes JSON bodies as UTF-8 before validating them.
        return input_problem(MalformedBody("The body is not valid UTF-8."), app.current_event.path)

    @app.exception_handler(StoreUnavailable)
    def _unavailable(error: StoreUnavailable) -> Response:
        logger.warning("store unavailable", extra={"reason": str(error)})
        return problem(503, "unavailable", "Temporarily unavailable", "Please retry shortly.",
                       app.current_event.path, headers={"Retry-After": "2"})

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return problem(404, "not-found", "Not found", "No such route.", app.current_event.path)

    for register in route_sets:
        register(app)
    return app

