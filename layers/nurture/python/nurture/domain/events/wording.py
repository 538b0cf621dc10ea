"""How a session reads in the emails and on the registration's page: its date and times in the event's time zone,
in the reader's language, and the values the event's templates show as `event.*` (the marketer's words only)."""

from __future__ import annotations

from typing import Any

from nurture.config.events import EventDefinition, Session

WEEKDAYS = {"ja": "月火水木金土日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def when(event: EventDefinition, session: Session, language: str) -> str:
    """The session's date and times as a person reads them, in the event's time zone."""
    starts, ends = event.starts_at(session), event.ends_at(session)
    span = f"{starts:%H:%M}〜{ends:%H:%M}" if language == "ja" else f"{starts:%H:%M}–{ends:%H:%M}"
    if language == "ja":
        return f"{starts.year}年{starts.month}月{starts.day}日({WEEKDAYS['ja'][starts.weekday()]}) {span}"
    return f"{WEEKDAYS['en'][starts.weekday()]}, {starts.day} {starts:%B %Y}, {span} ({event.time_zone})"


def event_values(event: EventDefinition, session: Session, language: str) -> dict[str, Any]:
    """What the event's templates show as `event.*`: written by the marketer, never by a lead."""
    return {"event": {"title": event.title.of(language), "starts": when(event, session, language),
                      "place": session.online_url or session.venue, "online_url": session.online_url,
                      "venue": session.venue, "recording_url": event.follow_up.recording_url}}
