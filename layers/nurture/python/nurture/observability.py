"""Powertools Logger, Metrics and Tracer: one of each per process, named by the environment."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
# Only AWS calls are traced: patching every supported library would import `requests` and more at cold start.
tracer = Tracer(patch_modules=("botocore",))
