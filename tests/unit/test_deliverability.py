"""The deliverability guard's verdict from daily counts: a pause on evidence, a warning before it."""

from datetime import UTC, date, datetime
from math import exp, factorial
from zoneinfo import ZoneInfo

import pytest

from nurture.cli.report import _readable
from nurture.config import load_config
from nurture.config.sequences import Deliverability
from nurture.domain.deliverability import DayCounts, judge, standing, wilson_lower_bound
from nurture.domain.report import Period, build_report
from tests.conftest import CONFIG_DIR

SETTINGS = Deliverability()  # 4% bounces or 0.08% complaints, over about 1,000 sends; at least 10 and 3 of them


def today(sent: int, bounced: int = 0, complained: int = 0) -> list[DayCounts]:
    return [DayCounts("2026-12-01", sent=sent, bounced=bounced, complained=complained)]


def test_one_complaint_in_a_thousand_sends_does_not_pause_but_warns():
    verdict = judge(today(1000, complained=1), SETTINGS)  # 0.1%: over 0.08%, but one is not evidence
    assert not verdict.pause and verdict.warn
    assert verdict.reason and verdict.reason.startswith("complaint rate 0.100%")
    assert "not enough evidence" in verdict.reason


def test_six_complaints_in_a_thousand_sends_pause():
    verdict = judge(today(1000, complained=6), SETTINGS)
    assert verdict.pause and not verdict.warn and verdict.reason and verdict.reason.startswith("complaint rate 0.600%")


@pytest.mark.parametrize("complaints", [1, 2])
def test_fewer_complaints_than_the_minimum_never_pause_however_few_the_sends(complaints):
    assert not judge(today(50, complained=complaints), SETTINGS).pause


def test_ordinary_complaint_rates_pause_almost_never():
    # How often would a thousand sends hold enough complaints to pause, at the rates B2B senders see? The
    # counts that pause, weighed by their Poisson chance: 1.4% at 0.05% and 0.1% at 0.02% (when one
    # complaint paused, 39% and 18% of the time).
    pausing = [k for k in range(0, 40) if judge(today(1000, complained=k), SETTINGS).pause]
    for rate, at_most in ((0.0005, 0.015), (0.0002, 0.0012)):
        mean = 1000 * rate
        assert sum(exp(-mean) * mean ** k / factorial(k) for k in pausing) < at_most
    assert pausing[0] == 3


def test_a_bounce_storm_still_pauses_within_a_few_hundred_sends():
    for rate in (0.10, 0.20, 0.50):
        first = next(n for n in range(10, 2000, 10) if judge(today(n, bounced=round(n * rate)), SETTINGS).pause)
        assert first <= 300, (rate, first)
    verdict = judge(today(200, bounced=40), SETTINGS)
    assert verdict.pause and verdict.reason and verdict.reason.startswith("bounce rate 20.00% (40 hard bounces in 200")


def test_a_bounce_rate_just_over_the_line_warns_until_the_evidence_is_there():
    assert judge(today(300, bounced=14), SETTINGS).warn  # 4.7%: could be chance
    assert judge(today(1000, bounced=70), SETTINGS).pause  # 7% of a thousand: it is not


def test_the_window_reaches_back_only_as_far_as_its_sends():
    # A bad week long ago does not weigh on today's clean thousand sends.
    days = [DayCounts("2026-11-01", sent=500, bounced=100), DayCounts("2026-12-01", sent=1000, bounced=10)]
    verdict = judge(days, SETTINGS)
    assert verdict.sends == 1000 and not verdict.pause and not verdict.warn


def test_wilsons_lower_bound_is_tight_for_many_trials_and_wide_for_few():
    assert wilson_lower_bound(0, 100) == 0.0 and wilson_lower_bound(5, 0) == 0.0
    assert 0.0027 < wilson_lower_bound(6, 1000) < 0.0028
    assert wilson_lower_bound(1, 10) < 0.02 < wilson_lower_bound(100, 1000) < 0.1


def test_the_report_line_says_at_risk_before_paused():
    config = load_config(CONFIG_DIR)
    at_risk = standing(judge(today(1000, complained=1), SETTINGS), None)
    paused = standing(judge(today(1000, complained=6), SETTINGS), {"paused_at": "2026-12-01T09:00:00Z",
                                                                   "reason": "complaint rate 0.600% (…)"})
    assert (at_risk["state"], paused["state"]) == ("at_risk", "paused")
    report = build_report([], Period(date(2026, 11, 1), date(2026, 11, 28), ZoneInfo("Asia/Tokyo")), config.sequences,
                          config.scoring, datetime(2026, 12, 1, tzinfo=UTC))
    assert "sending: AT RISK: complaint rate 0.100%" in _readable({**report, "deliverability": at_risk})
    assert "sending: PAUSED (since 2026-12-01T09:00:00Z): complaint rate 0.600%" in _readable(
        {**report, "deliverability": paused})
