"""Powertools Logger, Metrics and Tracer: one of each per process, named by the environment."""

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from nurture.topology import SHARED_METRIC_DIMENSIONS

logger = Logger()
metrics = Metrics()
Handler = TypeVar("Handler", bound=Callable[..., Any])


def _tracing_decorator() -> Callable[[Handler], Handler]:
    """Powertools' Tracer when tracing is on (`nurture:tracing`); else nothing: a disabled Tracer still imports the
    X-Ray SDK, a third of a cold start (docs/benchmarks.md)."""
    if resolve_truthy_env_var_choice(env=os.environ.get("POWERTOOLS_TRACE_DISABLED", "false")):
        return lambda handler: handler
    from aws_lambda_powertools import Tracer

    # Only AWS calls are traced: patching every supported library would import `requests` and more at cold start.
    tracer = Tracer(patch_modules=("botocore",))
    # Responses carry personal data: not into traces.
    traced: Callable[[Handler], Handler] = tracer.capture_lambda_handler(capture_response=False)
    return traced


traced = _tracing_decorator()

# Every custom metric costs $0.30 a month (a name under each dimension it is published with), so only what an
# alarm or the opt-in dashboard reads is one; each is published by one function. Every other count is a log
# field, and the report reads the table (issue 20).
METRIC_NAMES = ("SendingPaused", "SendingAtRisk", "ConfigProblem",  # alarms
                "FormSubmitted", "HotLeads", "EmailsSent")  # the dashboard


def count_shared(name: str) -> None:
    """One of a metric every function may publish (a config problem), flushed at once under the shared dimension."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, default_dimensions=SHARED_METRIC_DIMENSIONS):
        pass
