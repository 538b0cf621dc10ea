"""Seminar reminders, the dispatcher's side: each registered lead gets an email a set number of hours before its
session (the day before and an hour before, by default). A registration carries its next reminder on the due index
(`DUE#EVENTS`); the tick queues those due to the sender and moves each registration on to its next one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from nurture.config.events import EventDefinition, EventsConfig, Session
from nurture.domain.clock import iso
from nurture.domain.events.requests import ReminderMessage

MAX_QUEUED = 500  # a tick's reminders; the rest wait for the next tick, a minute later


def next_reminder(event: EventDefinition, session: Session, now: datetime, after: int = -1) -> tuple[int, str] | None:
    """The first of the event's reminders after the `after`th whose time is still to come: its number and time."""
    starts = event.starts_at(session)
    for number, hours in enumerate(event.reminders_hours_before):
        at = starts - timedelta(hours=hours)
        if number > after and at > now:
            return number, iso(at)
    return None


@dataclass(frozen=True)
class DueReminder:
    message: ReminderMessage
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
    if due:
        queue.send_batch([entry.message for entry in due])
    for entry in due:
        event = events.events.get(entry.message.event_id)
        registration = store.registration(entry.message.event_id, entry.message.lead_id) if event else None
        session = event.session(str(registration["session"])) if event and registration else None
        following = next_reminder(event, session, now, entry.message.reminder) if event and session else None
        store.move_reminder(entry, following)
    return len(due)
