"""Seminar reminders, the dispatcher's side: each registered lead gets an email a set number of hours before its
session (the day before and an hour before, by default). A registration carries its next reminder on the due index
(`DUE#EVENTS`); the tick queues those due to the sender and moves each registration on to its next one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from msgspec import Struct

from nurture.config.events import EventDefinition, EventsConfig, Session
from nurture.domain.clock import iso
from nurture.domain.events.requests import ReminderMessage

MAX_QUEUED = 500  # a tick's reminders; the rest wait for the next tick, a minute later


def reminder_at(event: EventDefinition, session: Session, hours: int) -> str:
    return iso(event.starts_at(session) - timedelta(hours=hours))


def next_reminder(event: EventDefinition, session: Session, now: datetime,
                  before: int | None = None) -> tuple[int, str] | None:
    """The first of the event's reminders (after the one `before` hours before the session, if given) whose time is
    still to come: its hours before the session, and its time. A reminder is known by its hours, not its place in
    the list, so a marketer's edit of the list never sends one with another's words."""
    for hours in event.reminders_hours_before:
        at = reminder_at(event, session, hours)
        if (before is None or hours < before) and at > iso(now):
            return hours, at
    return None


class DueReminder(Struct, frozen=True):
    message: ReminderMessage
    at: str  # when it was due, as the registration held it
    due_sk: str  # as read: the registration moves on only from it


class ReminderStore(Protocol):
    def due_reminders(self, until: str, limit: int) -> list[DueReminder]: ...

    def move_reminder(self, due: DueReminder, following: tuple[int, str] | None) -> None: ...

    def registration(self, event_id: str, lead_id: str) -> dict[str, Any] | None: ...


class MessageQueue(Protocol):
    def send_batch(self, messages: list[ReminderMessage]) -> None: ...


def queue_reminders(store: ReminderStore, queue: MessageQueue, events: EventsConfig, now: datetime) -> int:
    """Queue the reminders due by now, then move each registration on to its next one (or off the index). A tick
    that dies in between queues them again next time: the sender sends each reminder once."""
    due = store.due_reminders(iso(now), MAX_QUEUED)
    sending: list[ReminderMessage] = []
    moves: list[tuple[DueReminder, tuple[int, str] | None]] = []
    for entry in due:
        event = events.events.get(entry.message.event_id)
        registration = store.registration(entry.message.event_id, entry.message.lead_id) if event else None
        session = event.session(str(registration["session"])) if event and registration else None
        if event is None or session is None:
            moves.append((entry, None))  # the event, or the lead's registration, is gone
            continue
        hours = entry.message.hours_before
        if hours in event.reminders_hours_before and reminder_at(event, session, hours) == entry.at:
            sending.append(entry.message)
            moves.append((entry, next_reminder(event, session, now, before=hours)))
        else:  # the config moved the session or changed the reminders since: rescheduled as it is now
            moves.append((entry, next_reminder(event, session, now)))
    if sending:
        queue.send_batch(sending)
    for entry, following in moves:
        store.move_reminder(entry, following)
    return len(sending)
