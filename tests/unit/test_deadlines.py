"""Feedback deadlines in a salesperson's business hours."""

from datetime import UTC, datetime

import pytest

from nurture.config.records import validated
from nurture.config.sales import WorkingHours
from nurture.domain.sales.deadlines import business_deadline

TOKYO = "Asia/Tokyo"


@pytest.mark.parametrize(("handed_over", "hours", "due"), [
    # Friday 17:00 in Tokyo, 24 business hours of 9:00-18:00: 1 on Friday, 9 Monday, 9 Tuesday, 5 Wednesday
    (datetime(2026, 12, 4, 8, 0, tzinfo=UTC), 24, "2026-12-09T14:00:00+09:00"),
    # Saturday night counts from Monday's opening
    (datetime(2026, 12, 5, 13, 0, tzinfo=UTC), 2, "2026-12-07T11:00:00+09:00"),
    # Before opening on a working day: from 9:00; exactly a day's hours ends at closing
    (datetime(2026, 12, 7, 0, 0, tzinfo=UTC), 9, "2026-12-07T18:00:00+09:00"),
    # New Year's Day (a public holiday, a Friday in 2027) is off
    (datetime(2026, 12, 31, 8, 30, tzinfo=UTC), 1, "2027-01-04T09:30:00+09:00"),
])
def test_a_deadline_counts_only_working_hours_on_working_days(handed_over, hours, due):
    assert business_deadline(handed_over, hours, WorkingHours(), TOKYO).isoformat() == due


def test_a_salesperson_abroad_or_part_time_is_held_to_their_own_calendar():
    four_days = validated(WorkingHours, {"days": ["mon", "tue", "wed", "thu"], "start": "10:00", "end": "17:00",
                                          "holidays": None})
    # Thursday 16:00 in London: 1 hour left that day, then Monday from 10:00
    assert business_deadline(datetime(2026, 12, 3, 16, 0, tzinfo=UTC), 3, four_days,
                             "Europe/London").isoformat() == "2026-12-07T12:00:00+00:00"


def test_a_deadline_beyond_two_months_of_working_hours_fails_loudly():
    with pytest.raises(ValueError, match="no working hour"):
        business_deadline(datetime(2026, 12, 3, tzinfo=UTC), 1000, WorkingHours(), TOKYO)
