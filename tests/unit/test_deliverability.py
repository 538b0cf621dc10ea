"""The deliverability guard's verdict from daily counts."""

from nurture.config.sequences import Deliverability
from nurture.domain.deliverability import DayCounts, judge

SETTINGS = Deliverability()  # pause at 4% bounces or 0.08% complaints, over about 1,000 sends, from 200


def test_a_bounce_storm_pauses_sending():
    verdict = judge([DayCounts("2026-12-01", sent=500, bounced=25)], SETTINGS)
    assert verdict.pause and verdict.bounce_rate == 0.05 and "bounce rate 5.00%" in (verdict.reason or "")


def test_complaints_pause_below_any_bounce_trouble():
    verdict = judge([DayCounts("2026-12-01", sent=2500, complained=2)], SETTINGS)
    assert verdict.pause and verdict.reason and verdict.reason.startswith("complaint rate")


def test_a_few_early_bounces_are_not_a_rate_yet():
    assert not judge([DayCounts("2026-12-01", sent=40, bounced=4)], SETTINGS).pause


def test_the_window_reaches_back_only_as_far_as_its_sends():
    # A bad week long ago does not weigh on today's clean thousand sends.
    days = [DayCounts("2026-11-01", sent=500, bounced=100), DayCounts("2026-12-01", sent=1000, bounced=10)]
    verdict = judge(days, SETTINGS)
    assert verdict.sends == 1000 and not verdict.pause
