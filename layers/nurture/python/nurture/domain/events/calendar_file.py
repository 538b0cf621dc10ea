"""A session as an iCalendar file (RFC 5545) for the confirmation's attachment: its times in the event's own time
zone (`DTSTART;TZID=Asia/Tokyo`, with the VTIMEZONE that defines it), one UID per registration, so a later file
for the same registration updates the entry instead of adding one."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from nurture.config.events import EventDefinition, Session

PRODUCT = "-//Nurture//Seminars//EN"


def calendar_file(event_id: str, event: EventDefinition, session: Session, lead_id: str, language: str,
                  stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = Event()
    entry.add("uid", f"{event_id}.{lead_id}@nurture")
    entry.add("dtstamp", stamp)
    entry.add("dtstart", event.starts_at(session))
    entry.add("dtend", event.ends_at(session))
    entry.add("summary", event.title.of(language))
    entry.add("location", session.online_url or session.venue or "")
    if session.online_url:
        entry.add("url", session.online_url)
    entry.add("status", "CONFIRMED")
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
