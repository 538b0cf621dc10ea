"""Fixtures of the function tests."""

from collections.abc import Iterator

import pytest

from tests.functions.alerting import Receiver, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The webhook receiver and kintone, running, with the config's webhooks pointed at them."""
    yield from receiving()
