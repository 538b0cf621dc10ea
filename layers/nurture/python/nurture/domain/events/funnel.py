"""The KPI report's event funnel (Marketo's Invited / Registered / Attended / No Show, and what sales made of it): per
event and session, whole (not cut to the report's period), from the registrations, the attendance the imports
recorded, the invitation campaigns' sends and the handoffs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from nurture.config.events import EventsConfig
from nurture.domain.clock import iso
from nurture.domain.events.requests import ATTENDED, NO_SHOW

HANDOFF_DAYS = 30  # a handoff this soon after the session counts as the session's


def event_funnel(events: EventsConfig, registrations: Iterable[dict[str, Any]],
                 activity: dict[str, list[dict[str, Any]]],
                 handoffs: dict[str, list[datetime]]) -> list[dict[str, Any]]:
    """One row per event: invited (the people its invitation campaigns were sent to; None when it names none) and
    its sessions' registered, waitlisted, attended, no-show and handed off within HANDOFF_DAYS of the session."""
    held: dict[tuple[str, str, str], set[str]] = {}  # (event, session, status) -> leads
    for registration in registrations:
        event_id = str(registration["PK"]).split("#", 1)[1]
        held.setdefault((event_id, str(registration["session"]), str(registration["status"])), set()).add(
            str(registration["lead_id"]))
    for lead_id, lead_events in activity.items():
        for marked in lead_events:
            if marked.get("type") in (ATTENDED, NO_SHOW):
                held.setdefault((str(marked.get("name")), str(marked.get("session")), str(marked["type"])), set()).add(
                    lead_id)
    rows = []
    for event_id, event in sorted(events.events.items()):
        invitations = set(event.invitations)
        invited = {lead_id for lead_id, lead_events in activity.items() for e in lead_events
                   if e.get("type") == "email_sent" and e.get("campaign") in invitations} if invitations else None
        sessions = []
        for session in event.sessions:
            def leads(status: str, key: tuple[str, str] = (event_id, session.id)) -> set[str]:
                return held.get((*key, status), set())

            starts = event.starts_at(session)
            people = leads("registered") | leads("waitlisted") | leads(ATTENDED) | leads(NO_SHOW)
            handed_off = {lead_id for lead_id in people if any(
                starts <= at <= starts + timedelta(days=HANDOFF_DAYS) for at in handoffs.get(lead_id, []))}
            sessions.append({"session": session.id, "starts": iso(starts), "capacity": session.capacity,
                             "registered": len(leads("registered")), "waitlisted": len(leads("waitlisted")),
                             "attended": len(leads(ATTENDED)), "no_show": len(leads(NO_SHOW)),
                             "handed_off": len(handed_off)})
        rows.append({"event": event_id, "title": event.title.ja, "invited": None if invited is None else len(invited),
                     "handoff_days": HANDOFF_DAYS, "sessions": sessions})
    return rows
