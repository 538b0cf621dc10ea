"""Powertools Logger, Metrics and Tracer: one of each per process, named by the environment."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
