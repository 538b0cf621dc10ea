"""Run the real handlers in this process, the way Lambda would run them."""

from __future__ import annotations

import importlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from nurture.local.events import LambdaContext, http_api_event, match_route
from nurture.topology import FUNCTIONS

Handler = Callable[[dict[str, Any], Any], Any]
Observer = Callable[[str, dict[str, Any], float], None]  # function, event, seconds it ran
_containers: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_observers: list[Observer] = []
# The function running in this thread, if any: lets a meter tell whose AWS calls it sees.
running: ContextVar[str | None] = ContextVar("running", default=None)


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
        handler = load_handler(function)
        entered = running.set(function)
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            seconds = time.perf_counter() - started
            running.reset(entered)
            for observer in _observers:
                observer(function, event, seconds)


@contextmanager
def invocations_observed(observer: Observer) -> Iterator[None]:
    """`observer` hears of every invocation that ends while this lasts (the cost benchmark's meter)."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


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
