"""Integration tests share one local system (`nurture local`) for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local_system import RunningSystem, start_system


@pytest.fixture(scope="session")
def local_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    # The scheduler ticks hourly, so never within a session: in business hours in Tokyo a tick would send the
    # earlier tests' leads their first step emails between a test's counts of what it wrote. The tests of
    # sending start their own system, ticking every second.
    system = start_system(tmp_path_factory.mktemp("state"), "--tick", "3600")
    yield system
    system.stop_and_check_logs()
