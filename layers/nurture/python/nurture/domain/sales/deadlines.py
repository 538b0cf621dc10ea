"""When a salesperson's verdict on a handoff is due: a number of their business hours after it reached them, on
their own calendar (working days and hours in their time zone, public holidays off)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from msgspec import Struct

from nurture.config.sales import SalesConfig, WorkingHours
from nurture.domain.clock import iso
from nurture.domain.schedule import public_holidays

MAX_DAYS_AHEAD = 60  # a calendar with no working hour in this long is a misconfiguration, not a deadline


def is_working_day(day: date, hours: WorkingHours) -> bool:
    if day.strftime("%a").lower() not in hours.days:
        return False
    return not (hours.holidays and day in public_holidays(hours.holidays, day.year))


def business_deadline(start: datetime, business_hours: float, hours: WorkingHours, time_zone: str) -> datetime:
    """`business_hours` of working time after `start`: a lead handed over on Friday evening in Tokyo with 24
    hours to go is due on Wednesday at 14:00 (9:00-18:00, weekends off)."""
    remaining = timedelta(hours=business_hours)
    local = start.astimezone(ZoneInfo(time_zone))
    for _ in range(MAX_DAYS_AHEAD):
        if is_working_day(local.date(), hours):
            opens = local.replace(hour=hours.start.hour, minute=hours.start.minute, second=0, microsecond=0)
            closes = local.replace(hour=hours.end.hour, minute=hours.end.minute, second=0, microsecond=0)
            begin = max(local, opens)
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"no working hour in {MAX_DAYS_AHEAD} days: check the salesperson's working_hours")


def verdict_due(owner: str, sales: SalesConfig, since: datetime, business_hours: float) -> str | None:
    """When `owner` owes a verdict on a lead they got at `since`; None for a queue (nobody owes one yet)."""
    person = sales.people.get(owner)
    if person is None:
        return None
    try:
        return iso(business_deadline(since, business_hours, person.working_hours, person.time_zone))
    except ValueError:
        return None  # a calendar config check refuses (too few hours): no deadline rather than no handoff


def escalation_team(owner: str, sales: SalesConfig, routed_by: str | None = None) -> str | None:
    """The team whose lead hears of the owner's overdue verdict: the one the lead was routed through, or else the
    first the owner belongs to."""
    if routed_by in sales.teams and owner in sales.teams[routed_by].members:
        return routed_by
    return next((team_id for team_id, team in sales.teams.items() if owner in team.members), None)


class DueVerdict(Struct, frozen=True):
    """A verdict deadline that has passed, as the due index and its item hold it."""

    lead_id: str
    handoff_id: str
    owner: str
    team: str | None
    step: Literal["remind", "escalate"]
    due_sk: str  # as read: the next step is taken only if no other tick took it meanwhile
