"""Run the real handlers in this process, the way Lambda would run them."""

from __future__ import annotations

import importlib
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from nurture.local.events import LambdaContext, http_api_event, match_route
from nurture.topology import FUNCTIONS

Handler = Callable[[dict[str, Any], Any], Any]
_containers: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


def load_handler(function: str) -> Handler:
    if function not in FUNCTIONS:
        raise KeyError(f"unknown function '{function}'; known: {', '.join(sorted(FUNCTIONS))}")
    handler: Handler = importlib.import_module(FUNCTIONS[function].module).lambda_handler
    return handler


def invoke(function: str, event: dict[str, Any]) -> Any:
    """One invocation at a time per function, as in one Lambda container: Powertools' resolvers and
    batch processors keep per-invocation state on module-level objects."""
    spec = FUNCTIONS[function]
    context = LambdaContext(function_name=f"nurture-{function}", memory_limit_in_mb=spec.memory_mb,
                            timeout_seconds=spec.timeout_seconds)
    with _containers[function]:
        return load_handler(function)(event, context)


def api_request(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any] | None:
    """Route a request as the HTTP API would and return the function's response; None: no route."""
    matched = match_route(method, path)
    if matched is None:
        return None
    route, parameters = matched
    event = http_api_event(method, path, query=query, headers=headers, body=body, source_ip=source_ip,
                           route=route, path_parameters=parameters)
    response: dict[str, Any] = invoke(route.function, event)
    return response
