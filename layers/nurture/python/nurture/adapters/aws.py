"""boto3 clients, created lazily (nothing at import time) and replaceable in tests.

Endpoints come from the standard `AWS_ENDPOINT_URL` variable, so the same code talks to AWS or to
the local emulator without knowing which.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from nurture.adapters.faults import FaultInjector

# Standard retry mode backs off on throttling; three attempts keep a request inside API Gateway's timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
# Presigned S3 links as every region takes them (boto3 would sign them with the deprecated version 2).
PRESIGNING = _CONFIG.merge(Config(signature_version="s3v4"))


_faults: FaultInjector | None = None


@cache
def client(service: str, config: Config = _CONFIG) -> Any:
    made = boto3.session.Session().client(service, config=config)
    if _faults is not None:
        _faults.attach(made)
    return made


def inject_faults(injector: FaultInjector | None) -> None:
    """The reliability tests' switch: every client made from now on fails attempts as `injector` says
    (None: no faults). Existing clients are forgotten so none escapes. Flip it while no other thread
    makes clients (the simulation is single-threaded)."""
    global _faults
    _faults = injector
    client.cache_clear()


def reset_clients() -> None:
    """Forget cached clients, and Powertools' parameter providers with theirs (tests and the local runtime
    change endpoints between runs: a provider kept would still read the keyring from a stopped emulator)."""
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

    client.cache_clear()
    DEFAULT_PROVIDERS.clear()


def no_such_object(error: ClientError) -> bool:
    """S3's answer for a key that is not there: NoSuchKey to a GET, a bare 404 to a HEAD."""
    return str(error.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404", "NotFound")
