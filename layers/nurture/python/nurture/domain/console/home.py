"""The console's home: how sending went this week against the week before, and whether the guard lets it go on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from nurture.config.sequences import Deliverability
from nurture.domain.deliverability import DayCounts, Verdict, standing

WEEK = 7


def sending_weeks(days: Iterable[DayCounts], today: date) -> dict[str, dict[str, int]]:
    """Sends, hard bounces and complaints of the seven days up to today (UTC, as the guard counts them) and of
    the seven before."""
    weeks = {"this_week": {"sent": 0, "bounced": 0, "complained": 0},
             "previous_week": {"sent": 0, "bounced": 0, "complained": 0}}
    for day in days:
        age = (today - date.fromisoformat(day.day)).days
        if 0 <= age < 2 * WEEK:
            counts = weeks["this_week" if age < WEEK else "previous_week"]
            counts["sent"] += day.sent
            counts["bounced"] += day.bounced
            counts["complained"] += day.complained
    return weeks


def deliverability_panel(verdict: Verdict, pause: dict[str, Any] | None,
                         settings: Deliverability) -> dict[str, Any]:
    """The guard's standing with the thresholds it is judged against."""
    return {**standing(verdict, pause), "pause_bounce_rate": settings.pause_bounce_rate,
            "pause_complaint_rate": settings.pause_complaint_rate, "window_sends": settings.window_sends}
