"""Integration tests share one local system (`nurture local`) for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local_system import RunningSystem, start_system


@pytest.fixture(scope="session")
def local_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = start_system(tmp_path_factory.mktemp("state"))
    yield system
    system.stop_and_check_logs()
