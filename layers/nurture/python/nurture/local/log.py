"""The local runtime's own log, apart from the functions' loggers (which carry Lambda context)."""

from aws_lambda_powertools import Logger

log = Logger(service="nurture-local")
