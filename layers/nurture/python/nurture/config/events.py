"""Seminars and events (config/events.yaml): sessions with their times, places and capacity, the registration form
that chooses one, and the emails around them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from nurture.config.models import ASSET_NAME_PATTERN, FormDefinition, TimeZoneName
from nurture.config.records import record, setting

EVENT_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SESSION_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
SESSION_FIELD = "session"  # the registration form's choice field naming the session


@record
class EventTitle:
    ja: str = setting(min_length=1, max_length=200)
    en: str | None = setting(default=None, min_length=1, max_length=200)

    def of(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.ja


@record
class Session:
    id: str = setting(pattern=SESSION_ID, description="what the registration form's `session` choice posts")
    start: datetime = setting(description="local time in the event's time zone, e.g. 2027-06-10T14:00")
    end: datetime
    capacity: int = setting(ge=1, le=100_000, description="registrations beyond it go to the waitlist")
    online_url: str | None = setting(default=None, pattern=r"^https://[^\s]+$", max_length=500)
    venue: str | None = setting(default=None, min_length=1, max_length=300)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("give start and end without an offset: they are in the event's time_zone")
        if self.end <= self.start:
            raise ValueError("a session ends after it starts")
        if (self.online_url is None) == (self.venue is None):
            raise ValueError("give exactly one of 'online_url' and 'venue'")


@record
class EventEmails:
    """Templates (templates/<name>.yaml) of the emails around a registration: each may show {{ event.title }},
    {{ event.starts }} and {{ event.place }}; the reminder {{ hours_before }} too."""

    registered: str = setting(default="event_registered", description="the confirmation, with the .ics attached")
    waitlisted: str = setting(default="event_waitlisted", description="a full session's waitlist place")
    reminder: str = setting(default="event_reminder", description="each reminder; it may show {{ hours_before }}")


@record
class EventFollowUp:
    """What a session's attendance import starts (`nurture events attendance`): a thank-you to those who came, with
    the event's material, and the recording to those who registered and did not. Each template may show
    {{ event.title }}, {{ event.starts }} and {{ event.recording_url }}; the thank-you {{ download_url }} too."""

    attended: str | None = setting(default="event_thanks", description="the template to attendees; null: none")
    no_show: str | None = setting(default="event_missed", description="the template to no-shows; null: none")
    material: str | None = setting(default=None, pattern=ASSET_NAME_PATTERN,
                                   description="a file of config/assets/ the thank-you links, signed and tracked")
    recording_url: str | None = setting(default=None, pattern=r"^https://[^\s]+$", max_length=500)

    def template(self, attendance: str) -> str | None:
        """The email after the session for an `event_attended` or an `event_no_show` lead."""
        return self.attended if attendance == "event_attended" else self.no_show


@record
class EventDefinition:
    title: EventTitle
    form: str = setting(description="the registration form (forms.yaml, kind: seminar, with a `session` choice)")
    time_zone: TimeZoneName = "Asia/Tokyo"
    sessions: list[Session] = setting(min_length=1, max_length=50)
    emails: EventEmails = setting(default_factory=EventEmails)
    reminders_hours_before: list[int] = setting(default_factory=lambda: [24, 1], max_length=5,
                                                description="a reminder this many hours before the session, each")
    follow_up: EventFollowUp = setting(default_factory=EventFollowUp)
    attended_min_minutes: int = setting(default=0, ge=0, le=24 * 60,
                                        description="an attendee who stayed fewer minutes counts as a no-show")
    invitations: list[str] = setting(
        default_factory=list, max_length=20,
        description="the campaigns (campaigns.yaml) that invite to it: the funnel's invited")

    def __post_init__(self) -> None:
        ids = [session.id for session in self.sessions]
        if len(set(ids)) != len(ids):
            raise ValueError("session ids must be unique within an event")
        hours = self.reminders_hours_before
        if any(not 1 <= hour <= 24 * 30 for hour in hours) or hours != sorted(set(hours), reverse=True):
            raise ValueError("reminders_hours_before: distinct hours from 1 to 720, the earliest reminder first")

    def session(self, session_id: str) -> Session | None:
        return next((session for session in self.sessions if session.id == session_id), None)

    def starts_at(self, session: Session) -> datetime:
        return session.start.replace(tzinfo=ZoneInfo(self.time_zone))

    def ends_at(self, session: Session) -> datetime:
        return session.end.replace(tzinfo=ZoneInfo(self.time_zone))


@record
class EventsConfig:
    events: dict[str, EventDefinition] = setting(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [event_id for event_id in self.events if not re.fullmatch(EVENT_ID, event_id)]
        if bad:
            raise ValueError(f"event ids must be lower-case slugs: {', '.join(bad)}")
        forms = [event.form for event in self.events.values()]
        twice = sorted({form for form in forms if forms.count(form) > 1})
        if twice:
            raise ValueError(f"a form registers for one event only: {', '.join(twice)}")

    def for_form(self, form_id: str) -> tuple[str, EventDefinition] | None:
        return next(((event_id, event) for event_id, event in self.events.items() if event.form == form_id), None)


def event_problems(events: EventsConfig, forms: dict[str, FormDefinition], templates: set[str],
                   campaigns: set[str]) -> list[str]:
    """An event whose form is missing, not a seminar form, or offers other sessions than the event's; an email
    template or an invitation campaign that is not there."""
    problems = []
    for event_id, event in sorted(events.events.items()):
        form = forms.get(event.form)
        if form is None:
            problems.append(f"events.{event_id}.form: '{event.form}' is not in forms.yaml")
            continue
        if form.kind != "seminar":
            problems.append(f"events.{event_id}.form: '{event.form}' is a {form.kind} form, not a seminar form")
        field = form.custom_field(SESSION_FIELD)
        sessions = [session.id for session in event.sessions]
        if field is None or field.type != "choice" or not field.required:
            problems.append(f"events.{event_id}.form: '{event.form}' needs a required choice field "
                            f"'{SESSION_FIELD}' offering {', '.join(sessions)}")
        elif sorted(field.choices or []) != sorted(sessions):
            problems.append(f"events.{event_id}.sessions: the form '{event.form}' offers "
                            f"{', '.join(field.choices or [])}; the event has {', '.join(sessions)}")
        follow_up = event.follow_up
        for where, name in (("emails", event.emails.registered), ("emails", event.emails.waitlisted),
                            ("emails", event.emails.reminder), ("follow_up", follow_up.attended),
                            ("follow_up", follow_up.no_show)):
            if name is not None and name not in templates:
                problems.append(f"events.{event_id}.{where}: template '{name}' is not in templates/")
        problems += [f"events.{event_id}.invitations: campaign '{campaign}' is not in campaigns.yaml"
                     for campaign in event.invitations if campaign not in campaigns]
    return problems
