"""The local runtime's own log, apart from the functions' loggers (which carry Lambda context); and
where the functions' logs go when the emulator runs them in-process."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from typing import TextIO
from unittest import mock

from aws_lambda_powertools import Logger

log = Logger(service="nurture-local")


@contextlib.contextmanager
def functions_logging(to: TextIO | None) -> Iterator[None]:
    """The functions' logs at INFO into `to`, with their EMF metrics (stdout), as Lambda hands both to
    CloudWatch Logs; without `to`, their errors only (to the console) and no metrics at all."""
    from nurture import observability

    handler = observability.logger.logger_handler
    assert isinstance(handler, logging.StreamHandler)  # Powertools' default: the handler writes to a stream
    level, stream = observability.logger.log_level, handler.stream
    observability.logger.setLevel("INFO" if to else "ERROR")
    if to is not None:
        handler.setStream(to)
    try:
        # Powertools asks at each flush whether metrics are off.
        with mock.patch.dict(os.environ, {"POWERTOOLS_METRICS_DISABLED": "false" if to else "true"}), \
                contextlib.redirect_stdout(to or io.StringIO()):
            yield
    finally:
        handler.setStream(stream)
        observability.logger.setLevel(level)
