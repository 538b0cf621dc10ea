"""The API functions' resolver: routes, their inputs, CORS, and errors mapped to answers in one place.

Powertools' event handler did this until decision 90; its import alone (with asyncio, and pydantic for
its OpenAPI parameters) was half of an API function's cold start. Routes declare their path and query
parameters and their JSON body as msgspec Structs: checked here, turned into keyword arguments, and
described by the same types in the OpenAPI document (`nurture.http.openapi`). Events are read once into
`nurture.http.requests.ApiRequest`, for HTTP API (payload 2.0) and REST (1.0) alike.
"""

from __future__ import annotations

import base64
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec
from msgspec import Struct, field

from nurture.domain.inputs import decoded, parsed
from nurture.http.requests import ApiRequest, body_bytes

E = TypeVar("E", bound=BaseException)
# Powertools' defaults (a signed or API-keyed browser call) and the forms' Idempotency-Key.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Amz-Date", "X-Amz-Security-Token",
                   "X-Api-Key")
_PARAMETER = re.compile(r"<(\w+)>")


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A route's JSON body: unknown keys are refused (see `nurture.domain.inputs`)."""


class Parameters(msgspec.Struct, kw_only=True):
    """A route's path and query parameters: a field named in the path template is a path parameter, any
    other a query parameter (text converted to the field's type; unknown query keys are ignored)."""


class Response(Struct, frozen=True):
    status_code: int
    content_type: str | None = None
    body: str | bytes = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class Cors(Struct, frozen=True):
    allow_origins: tuple[str, ...]
    max_age: int = 600

    def headers(self, origin: str | None) -> dict[str, str]:
        """Every answer varies by Origin while CORS is on, whether this one was allowed or not."""
        if not origin or origin not in self.allow_origins:
            return {"Vary": "Origin"}
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Headers": ",".join(ALLOWED_HEADERS),
                "Access-Control-Max-Age": str(self.max_age), "Vary": "Origin"}


class Route(Struct, frozen=True):
    method: str
    path: str  # /v1/leads/<lead_id>
    pattern: re.Pattern[str]
    function: Callable[..., Response]
    parameters: type[Parameters] | None
    body: type[msgspec.Struct] | None  # an Input, or a domain message that forbids unknown keys as Input does
    summary: str
    tags: tuple[str, ...]
    responses: Mapping[int, Mapping[str, Any]]
    documented: bool
    security: str | None  # the scheme of nurture.http.openapi.SECURITY_SCHEMES its caller authenticates with

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(_PARAMETER.findall(self.path))


class DeferredRoutes(Struct, frozen=True):
    """A route set registered by `module`'s function `register` at the first request under one of `prefixes`:
    a cold start imports the code of the routes it serves, not every route's (the console's campaigns,
    segments and config each bring their own domain modules)."""
    prefixes: tuple[str, ...]
    module: str
    register: str

    def serves(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)


class Router:
    """Routes registered by plain functions (`RouteSet`) with `get`/`post`/`delete`, answered by `resolve`.
    One request at a time, as a Lambda container (and the local runtime's) serves them."""

    def __init__(self, cors: Cors | None = None):
        self.routes: list[Route] = []
        self.cors = cors
        self._deferred: list[DeferredRoutes] = []
        self._handlers: dict[type[BaseException], Callable[[Any], Response]] = {}
        self._current: ApiRequest | None = None

    @property
    def current_request(self) -> ApiRequest:
        if self._current is None:
            raise RuntimeError("no request is being resolved")
        return self._current

    def route(self, method: str, path: str, *, summary: str = "", tags: Iterable[str] = (),
              responses: Mapping[int, Mapping[str, Any]] | None = None, parameters: type[Parameters] | None = None,
              body: type[msgspec.Struct] | None = None, documented: bool = True, security: str | None = None
              ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        if parameters is not None and (undeclared := set(_PARAMETER.findall(path)) - set(parameters.__struct_fields__)):
            raise ValueError(f"{path}: path parameters {sorted(undeclared)} are not in {parameters.__name__}")
        pattern = re.compile("^" + _PARAMETER.sub(r"(?P<\1>[^/]+)", re.escape(path)) + "/?$")

        def register(function: Callable[..., Response]) -> Callable[..., Response]:
            self.routes.append(Route(method, path, pattern, function, parameters, body, summary, tuple(tags),
                                     dict(responses or {}), documented, security))
            return function
        return register

    def get(self, path: str, **options: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        return self.route("POST", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        return self.route("DELETE", path, **options)

    def defer(self, routes: DeferredRoutes) -> None:
        self._deferred.append(routes)

    def load_deferred(self, path: str | None = None) -> None:
        """Register the deferred route sets serving `path` (all of them without one). A set is forgotten once
        registered: one that failed is tried again by the next request (a route registered twice is harmless,
        the first match answers)."""
        for routes in [routes for routes in self._deferred if path is None or routes.serves(path)]:
            getattr(importlib.import_module(routes.module), routes.register)(self)
            self._deferred.remove(routes)

    def exception_handler(self, kind: type[E]) -> Callable[[Callable[[E], Response]], Callable[[E], Response]]:
        def register(handler: Callable[[E], Response]) -> Callable[[E], Response]:
            self._handlers[kind] = handler
            return handler
        return register

    def resolve(self, request: ApiRequest) -> dict[str, Any]:
        """The proxy answer to one API Gateway request (payload 2.0 or 1.0)."""
        self._current = request
        try:
            cors = self.cors.headers(request.headers.get("origin")) if self.cors else {}
            response = self._answer(request, cors)
            return proxy_answer(response, cors, request.http_api)
        finally:
            self._current = None

    def _answer(self, request: ApiRequest, cors: Mapping[str, str]) -> Response:
        path, method = request.path, request.method
        try:
            self.load_deferred(path)
            matches = [(route, found) for route in self.routes if (found := route.pattern.match(path))]
            chosen = next(((route, found) for route, found in matches if route.method == method), None)
            if chosen is None:
                allowed = sorted({route.method for route, _ in matches} | {"OPTIONS"})
                if method == "OPTIONS" and matches:  # a CORS preflight: allowed origins get the headers
                    methods = {"Access-Control-Allow-Methods": ",".join(allowed)}
                    return Response(204, None, "", methods if "Access-Control-Allow-Origin" in cors else {})
                if matches:
                    raise MethodNotAllowed(allowed)
                raise RouteNotFound(path)
            route, found = chosen
            return route.function(**self._arguments(route, found.groupdict(), request))
        except Exception as error:
            handler = next((self._handlers[kind] for kind in type(error).__mro__ if kind in self._handlers), None)
            if handler is None:
                raise
            return handler(error)

    @staticmethod
    def _arguments(route: Route, path_values: dict[str, str], request: ApiRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = dict(path_values)
        if route.parameters is not None:
            query = {name: value for name, value in request.query.items()
                     if name not in path_values}
            arguments.update(msgspec.structs.asdict(parsed(route.parameters, {**query, **path_values}, from_text=True)))
        if route.body is not None:
            arguments["body"] = decoded(route.body, body_bytes(request))
        return arguments


class RouteNotFound(Exception):
    """No route has this path."""


class MethodNotAllowed(Exception):
    """A route has this path, not this method."""

    def __init__(self, allowed: list[str]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


def proxy_answer(response: Response, cors: Mapping[str, str], http_api: bool) -> dict[str, Any]:
    """`response` as API Gateway's Lambda proxy integration takes it (`http_api`: payload 2.0's, with cookies)."""
    headers = {**cors, **response.headers}
    if response.content_type:
        headers["Content-Type"] = response.content_type
    binary = isinstance(response.body, bytes)
    body = base64.b64encode(response.body).decode() if isinstance(response.body, bytes) else response.body
    answer: dict[str, Any] = {"statusCode": response.status_code, "headers": headers, "body": body,
                              "isBase64Encoded": binary}
    if http_api:
        answer["cookies"] = []
    return answer
