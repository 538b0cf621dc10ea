"""Send windows, Japanese holidays, year-end closure and the frequency cap, on fixed dates."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nurture.config import load_config
from nurture.config.sequences import FrequencyCap, SendWindow
from nurture.domain.schedule import is_business_day, next_send_time, next_window_opening
from tests.conftest import CONFIG_DIR

TOKYO = ZoneInfo("Asia/Tokyo")
WINDOW = load_config(CONFIG_DIR).sequences.send_window
CAP = FrequencyCap(max_emails=2, per_days=7)


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("earliest", "expected"),
    [
        (tokyo(2026, 11, 24, 10, 30), tokyo(2026, 11, 24, 10, 30)),  # Tuesday morning: now
        (tokyo(2026, 11, 24, 7, 0), tokyo(2026, 11, 24, 9, 0)),  # before opening: 9:00
        (tokyo(2026, 11, 27, 18, 0), tokyo(2026, 11, 30, 9, 0)),  # Friday at closing: Monday
        (tokyo(2026, 11, 28, 12, 0), tokyo(2026, 11, 30, 9, 0)),  # Saturday: Monday
        (tokyo(2026, 11, 23, 12, 0), tokyo(2026, 11, 24, 9, 0)),  # 勤労感謝の日 (a Monday holiday)
        (tokyo(2026, 12, 28, 17, 0), tokyo(2026, 12, 28, 17, 0)),  # last business day of the year
        (tokyo(2026, 12, 28, 18, 30), tokyo(2027, 1, 4, 9, 0)),  # year-end closure and 元日: Jan 4
        (tokyo(2026, 5, 1, 19, 0), tokyo(2026, 5, 7, 9, 0)),  # Golden Week: 5/3-5/6 (振替休日 included)
        (tokyo(2026, 4, 29, 10, 0), tokyo(2026, 4, 30, 9, 0)),  # 昭和の日
    ],
)
def test_next_window_opening_in_tokyo(earliest, expected):
    assert next_window_opening(earliest, WINDOW) == expected


def test_the_leads_own_time_zone_decides_business_hours():
    utc_evening = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("UTC"))  # 19:00 in Tokyo, 5:00 in New York
    assert next_window_opening(utc_evening, WINDOW, "America/New_York") == datetime(
        2026, 11, 24, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    assert next_window_opening(utc_evening, WINDOW) == tokyo(2026, 11, 25, 9, 0)


@pytest.mark.parametrize("stored", ["Mars/Olympus_Mons", "../../etc/passwd", "Asia/Tokyo\x00"])
def test_a_stored_time_zone_this_runtime_does_not_know_is_read_as_the_windows_own(stored: str):
    utc_evening = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("UTC"))
    assert next_window_opening(utc_evening, WINDOW, stored) == tokyo(2026, 11, 25, 9, 0)


def test_weekend_only_window_without_holidays():
    open_every_day = SendWindow(business_days_only=False, holidays=None)
    assert is_business_day(tokyo(2026, 5, 3).date(), open_every_day)
    assert not is_business_day(tokyo(2026, 5, 3).date(), WINDOW)


def test_frequency_cap_waits_for_the_oldest_send_to_age_out():
    sent = [tokyo(2026, 11, 24, 10, 0), tokyo(2026, 11, 26, 10, 0)]
    when = next_send_time(tokyo(2026, 11, 27, 10, 0), WINDOW, CAP, sent)
    assert when == tokyo(2026, 12, 1, 10, 0)  # a week after the first send, a Tuesday in the window


def test_cap_and_window_together_land_inside_both():
    sent = [tokyo(2026, 11, 27, 17, 59), tokyo(2026, 11, 27, 17, 59)]
    when = next_send_time(tokyo(2026, 11, 28, 9, 0), WINDOW, CAP, sent)
    assert when == tokyo(2026, 12, 4, 17, 59)
    assert is_business_day(when.date(), WINDOW) and WINDOW.start <= when.timetz().replace(tzinfo=None) < WINDOW.end


def test_a_window_that_never_opens_fails_loudly():
    never = SendWindow(closed_dates=[f"{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 32)
                                     if not (m == 2 and d > 29) and not (m in (4, 6, 9, 11) and d == 31)])
    with pytest.raises(ValueError, match="closed"):
        next_window_opening(tokyo(2026, 11, 24, 10, 0), never)
