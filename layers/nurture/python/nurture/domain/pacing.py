"""Keep one sender instance under its share of the SES sending rate."""

from __future__ import annotations

import time
from collections.abc import Callable


class SendPacer:
    """Spaces calls at least 1/rate seconds apart; a rate of 0 never waits.

    SES refuses sends beyond the account's maximum rate (Throttling); pacing each instance to its share
    keeps messages from bouncing back to the queue and, after repeated refusals, into its DLQ.
    """

    def __init__(self, rate_per_second: float, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1 / rate_per_second if rate_per_second > 0 else 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_allowed: float | None = None

    def wait(self) -> None:
        now = self._monotonic()
        if self._next_allowed is not None and now < self._next_allowed:
            self._sleep(self._next_allowed - now)
            now = self._next_allowed
        self._next_allowed = now + self.interval
