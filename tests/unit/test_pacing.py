"""A sender instance keeps to its share of the SES rate."""

import pytest

from nurture.domain.pacing import SendPacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_back_to_back_sends_are_spaced_by_the_rate():
    time = FakeTime()
    pacer = SendPacer(4, time.monotonic, time.sleep)
    for _ in range(3):
        pacer.wait()
        time.now += 0.05  # the send itself
    assert time.slept == pytest.approx([0.2, 0.2])


def test_a_send_after_a_pause_longer_than_the_interval_does_not_wait():
    time = FakeTime()
    pacer = SendPacer(2, time.monotonic, time.sleep)
    pacer.wait()
    time.now += 3
    pacer.wait()
    assert time.slept == []


def test_a_rate_of_zero_never_waits():
    time = FakeTime()
    pacer = SendPacer(0, time.monotonic, time.sleep)
    for _ in range(5):
        pacer.wait()
    assert time.slept == []
