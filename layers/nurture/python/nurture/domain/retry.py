"""Retrying writes that lost a race with a concurrent request."""

from __future__ import annotations

import random
import time

MAX_ATTEMPTS = 4


def backoff(attempt: int) -> None:
    """Full jitter: concurrent retries of the same item spread out instead of colliding again."""
    time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not security
