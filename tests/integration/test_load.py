"""50 clients at once against the local runtime: whatever was accepted is stored exactly once.

A short run here, on a system of its own (the scoring backlog it leaves would slow other tests down);
`make bench` runs the minute-long version and records its throughput."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.load import LOAD_NAME, drive, stored_more_or_less_than_once
from tests.local_system import RunningSystem, start_system

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loaded_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = start_system(tmp_path_factory.mktemp("load"))
    yield system
    system.stop_and_check_logs()


def test_fifty_concurrent_clients_lose_and_double_nothing(loaded_system: RunningSystem):
    result = drive(loaded_system.port, clients=50, seconds=8)
    loaded_system.personal |= {*result.forms, LOAD_NAME}  # the load's addresses and name must not be logged either

    assert result.requests > 100 and len(result.forms) > 20 and sum(result.beacons.values()) > 20
    assert sum(result.errors.values()) == 0, result.errors
    # A 2xx is answered after the write: what was accepted is in the table already.
    problems = stored_more_or_less_than_once(result, loaded_system.items)
    assert problems == [], problems[:10]
