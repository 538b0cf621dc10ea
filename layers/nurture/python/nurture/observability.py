"""Powertools Logger, Metrics and Tracer: one of each per process, named by the environment."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from nurture.topology import SHARED_METRIC_DIMENSIONS

logger = Logger()
metrics = Metrics()
# Only AWS calls are traced: patching every supported library would import `requests` and more at cold start.
tracer = Tracer(patch_modules=("botocore",))

# Every custom metric costs $0.30 a month (a name under each dimension it is published with), so only what an
# alarm or the opt-in dashboard reads is one; each is published by one function. Every other count is a log
# field, and the report reads the table (issue 20).
METRIC_NAMES = ("SendingPaused", "SendingAtRisk", "ConfigProblem",  # alarms
                "FormSubmitted", "HotLeads", "EmailsSent")  # the dashboard


def count_shared(name: str) -> None:
    """One of a metric every function may publish (a config problem), flushed at once under the shared dimension."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, default_dimensions=SHARED_METRIC_DIMENSIONS):
        pass
