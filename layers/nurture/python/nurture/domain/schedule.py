"""When a step email may go out: the send window, business days, holidays and the frequency cap.

Pure date arithmetic: times come in and go out as aware datetimes; the lead's time zone decides
what "9:00 on a business day" means.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.config.sequences import FrequencyCap, SendWindow

MAX_DAYS_AHEAD = 60  # no window ever stays shut this long; a misconfiguration fails loudly instead


@cache
def public_holidays(country: str, year: int) -> frozenset[date]:
    import holidays  # imported when first needed: most functions never schedule an email

    return frozenset(holidays.country_holidays(country, years=year))


def is_business_day(day: date, window: SendWindow) -> bool:
    if window.business_days_only and day.weekday() >= 5:
        return False
    if window.holidays and day in public_holidays(window.holidays, day.year):
        return False
    return day.strftime("%m-%d") not in window.closed_dates


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    """The lead's zone; the window's own when it has none, or one this runtime's tz database does not know
    (checked at capture, but a stored value outlives a tzdata update): a lead is never unsendable for it."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


def next_window_opening(earliest: datetime, window: SendWindow, timezone: str | None = None) -> datetime:
    """The first moment at or after `earliest` inside the window, in the lead's time zone."""
    zone = _zone(timezone, window.timezone)
    local = earliest.astimezone(zone)
    for _ in range(MAX_DAYS_AHEAD):
        if is_business_day(local.date(), window):
            opens = local.replace(hour=window.start.hour, minute=window.start.minute, second=0, microsecond=0)
            closes = local.replace(hour=window.end.hour, minute=window.end.minute, second=0, microsecond=0)
            if local < opens:
                return opens
            if local < closes:
                return local
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"the send window stays closed for {MAX_DAYS_AHEAD} days: check config/sequences.yaml")


def cap_allows_from(at: datetime, sent: Iterable[datetime], cap: FrequencyCap) -> datetime:
    """The first moment at or after `at` when one more email keeps within the cap."""
    period = timedelta(days=cap.per_days)
    recent = sorted(moment for moment in sent if moment > at - period)
    if len(recent) < cap.max_emails:
        return at
    # The oldest of the sends that fill the cap has to leave the period first.
    return recent[len(recent) - cap.max_emails] + period


def next_send_time(earliest: datetime, window: SendWindow, cap: FrequencyCap, sent: Iterable[datetime],
                   timezone: str | None = None) -> datetime:
    """The first moment at or after `earliest` that is inside the window and within the cap."""
    history = list(sent)
    moment = earliest
    for _ in range(MAX_DAYS_AHEAD):
        opening = next_window_opening(moment, window, timezone)
        allowed = cap_allows_from(opening, history, cap)
        if allowed == opening:
            return opening
        moment = allowed
    raise ValueError("no send time within the window and the cap")
