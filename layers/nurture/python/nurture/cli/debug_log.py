"""What `nurture --debug` logs: every AWS call (its operation, its HTTP status, its retries) and any warning, never
what a call carried. botocore's own debug lines print a request's parameters and body, the response's body and
the canonical request a signature covers: a lead's address and name, an export's rows, a reply's text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

# Loggers whose debug lines say what happened to a call, not what it held.
PLAIN = frozenset({"botocore.retryhandler", "botocore.retries.standard", "botocore.credentials",
                   "urllib3.connectionpool"})


@contextmanager
def aws_calls_logged(stream: TextIO) -> Iterator[None]:
    """Debug logging of the AWS calls to `stream` while inside."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.addFilter(_no_contents)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _no_contents(record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING or record.name in PLAIN:
        return True
    if record.name == "botocore.endpoint" and str(record.msg).startswith("Making request for") and isinstance(
            record.args, tuple) and record.args:
        record.msg, record.args = "Making request for %s", (record.args[0],)  # the operation, not its parameters
        return True
    return False
