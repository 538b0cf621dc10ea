"""The simulation's own judges of a send: they must catch what the scheduler should have prevented."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nurture.config import load_config
from nurture.config.sequences import FrequencyCap
from nurture.local.simulation import inside_window, over_cap
from tests.conftest import CONFIG_DIR

SEQUENCES = load_config(CONFIG_DIR).sequences
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(("moment", "inside"), [
    (datetime(2026, 4, 20, 9, 0, tzinfo=TOKYO), True),  # Monday, opening time
    (datetime(2026, 4, 20, 17, 59, tzinfo=TOKYO), True),
    (datetime(2026, 4, 20, 18, 0, tzinfo=TOKYO), False),  # closing time is outside
    (datetime(2026, 4, 20, 8, 59, tzinfo=TOKYO), False),
    (datetime(2026, 4, 25, 10, 0, tzinfo=TOKYO), False),  # Saturday
    (datetime(2026, 4, 29, 10, 0, tzinfo=TOKYO), False),  # 昭和の日
    (datetime(2026, 5, 6, 10, 0, tzinfo=TOKYO), False),  # substitute holiday in Golden Week
    (datetime(2026, 5, 7, 10, 0, tzinfo=TOKYO), True),
    (datetime(2026, 12, 30, 10, 0, tzinfo=TOKYO), False),  # year-end closure
    (datetime(2026, 4, 20, 1, 0, tzinfo=ZoneInfo("UTC")), True),  # 10:00 in Tokyo
])
def test_the_window_is_judged_in_tokyo_with_holidays_and_closures(moment, inside):
    assert inside_window(moment, SEQUENCES) is inside


def test_a_third_email_within_seven_days_is_over_the_cap():
    start = datetime(2026, 4, 20, 10, 0, tzinfo=TOKYO)
    cap = FrequencyCap(max_emails=2, per_days=7)
    assert over_cap([start, start + timedelta(days=3), start + timedelta(days=7)], cap) == 0
    assert over_cap([start, start + timedelta(days=3), start + timedelta(days=6)], cap) == 1
