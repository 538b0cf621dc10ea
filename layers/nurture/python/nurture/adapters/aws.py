"""boto3 clients, created lazily (nothing at import time) and replaceable in tests.

Endpoints come from the standard `AWS_ENDPOINT_URL` variable, so the same code talks to AWS or to
the local emulator without knowing which.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; three attempts keep a request inside API Gateway's timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@cache
def client(service: str, config: Config = _CONFIG) -> Any:
    return boto3.session.Session().client(service, config=config)


def reset_clients() -> None:
    """Forget cached clients (tests and the local runtime change endpoints between runs)."""
    client.cache_clear()
