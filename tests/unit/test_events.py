"""Seminars decided without AWS: what events.yaml must hold, what a seminar post asks for, how a session reads in
each language, and a calendar file that calendars accept (RFC 5545, in the event's own time zone)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from nurture.config.events import EventDefinition, EventsConfig, Session, event_problems
from nurture.config.loader import load_config_files, read_config_files
from nurture.config.records import dumped, validated
from nurture.domain.errors import ConfigInvalid
from nurture.domain.events.calendar_file import calendar_file
from nurture.domain.events.requests import RegistrationMessage, requested_registration
from nurture.domain.events.wording import when
from tests.conftest import CONFIG_DIR

CONFIG = load_config_files(read_config_files(CONFIG_DIR), "config")
EVENT_ID = "scoring-seminar-2026-12"
EVENT = CONFIG.events.events[EVENT_ID]
STAMP = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_a_session_needs_local_times_a_span_and_exactly_one_place():
    base = {"title": {"ja": "セミナー"}, "form": "seminar"}
    good = {"id": "s1", "start": "2027-06-10T14:00", "end": "2027-06-10T15:00", "capacity": 10, "venue": "本社"}
    validated(EventDefinition, {**base, "sessions": [good]})
    for bad, message in (({"start": "2027-06-10T14:00+09:00"}, "without an offset"),
                         ({"end": "2027-06-10T13:00"}, "ends after it starts"),
                         ({"online_url": "https://webinar.example.co.jp/j/1"}, "exactly one of"),
                         ({"venue": None}, "exactly one of"),
                         ({"capacity": 0}, "greater than or equal to 1")):
        with pytest.raises(ValueError, match=message):
            validated(EventDefinition, {**base, "sessions": [{**good, **bad}]})
    with pytest.raises(ValueError, match="unique"):
        validated(EventDefinition, {**base, "sessions": [good, good]})
    with pytest.raises(ValueError, match="one event only"):
        validated(EventsConfig, {"events": {"a": {**base, "sessions": [good]}, "b": {**base, "sessions": [good]}}})


def test_config_check_names_an_event_whose_form_or_sessions_or_emails_do_not_fit():
    files = read_config_files(CONFIG_DIR)
    wrong = files["events.yaml"].replace("form: seminar", "form: contact").replace(
        'id: "2026-12-17"', 'id: "2026-12-24"')
    with pytest.raises(ConfigInvalid) as invalid:
        load_config_files({**files, "events.yaml": wrong}, "config")
    assert invalid.value.problems == [
        f"config/events.yaml: events.{EVENT_ID}.form: 'contact' is a contact form, not a seminar form",
        f"config/events.yaml: events.{EVENT_ID}.form: 'contact' needs a required choice field 'session' offering "
        "2026-12-10, 2026-12-24"]
    first_only = [dumped(Session, session) for session in EVENT.sessions[:1]]
    assert event_problems(validated(EventsConfig, {"events": {EVENT_ID: {
        **dumped(EventDefinition, EVENT), "sessions": first_only}}}), CONFIG.forms,
        set(CONFIG.templates), set(CONFIG.campaigns.campaigns)) == [
        f"events.{EVENT_ID}.sessions: the form 'seminar' offers 2026-12-10, 2026-12-17; the event has 2026-12-10"]
    unsent = {name: text for name, text in files.items() if name != "templates/event_waitlisted.yaml"}
    with pytest.raises(ConfigInvalid, match="template 'event_waitlisted' is not in templates/"):
        load_config_files(unsent, "config")


def test_only_a_seminar_post_choosing_a_session_of_its_event_asks_for_a_place():
    post = {"type": "form_submit", "form_kind": "seminar", "form_id": "seminar", "fields": {"session": "2026-12-17"},
            "occurred_at": "2026-12-04T01:00:00.000000Z"}
    assert requested_registration("L1", post, CONFIG.events) == RegistrationMessage.of(
        lead_id="L1", event_id=EVENT_ID, session_id="2026-12-17", asked_at="2026-12-04T01:00:00.000000Z")
    assert requested_registration("L1", {**post, "fields": {"session": "2027-01-01"}}, CONFIG.events) is None
    assert requested_registration("L1", {**post, "form_id": "contact", "form_kind": "contact"}, CONFIG.events) is None


def test_a_session_reads_in_each_language_in_the_events_time_zone():
    session = EVENT.sessions[0]
    assert when(EVENT, session, "ja") == "2026年12月10日(木) 14:00〜15:00"
    assert when(EVENT, session, "en") == "Thu, 10 December 2026, 14:00–15:00 (Asia/Tokyo)"


def test_the_calendar_file_is_valid_icalendar_in_tokyo_time_with_one_uid_per_registration():
    raw = calendar_file(EVENT_ID, EVENT, EVENT.sessions[0], "L1", "ja", STAMP)
    lines = raw.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-2] == b"END:VCALENDAR" and lines[-1] == b""
    assert all(len(line) <= 75 for line in lines)  # folded, as RFC 5545 asks
    assert b"DTSTART;TZID=Asia/Tokyo:20261210T140000" in raw and b"DTEND;TZID=Asia/Tokyo:20261210T150000" in raw
    parsed = Calendar.from_ical(raw)
    (zone,) = parsed.walk("VTIMEZONE")
    assert zone["TZID"] == "Asia/Tokyo"
    (entry,) = parsed.walk("VEVENT")
    assert entry["UID"] == f"{EVENT_ID}.L1@nurture" and str(entry["SUMMARY"]) == EVENT.title.ja
    assert entry.decoded("DTSTART") == datetime(2026, 12, 10, 5, 0, tzinfo=UTC)
    assert str(entry["LOCATION"]) == "https://webinar.example.co.jp/j/20261210"
    again = calendar_file(EVENT_ID, EVENT, EVENT.sessions[1], "L1", "en", STAMP)
    assert Calendar.from_ical(again).walk("VEVENT")[0]["UID"] == entry["UID"]  # a later file updates the entry


def test_reminders_come_the_day_before_and_an_hour_before_while_still_ahead():
    from nurture.domain.events.reminders import next_reminder

    session = EVENT.sessions[0]  # 2026-12-10 14:00 in Tokyo: 05:00 UTC
    assert next_reminder(EVENT, session, STAMP) == (24, "2026-12-09T05:00:00.000000Z")
    assert next_reminder(EVENT, session, STAMP, before=24) == (1, "2026-12-10T04:00:00.000000Z")
    late = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # registered after the day-before reminder's time
    assert next_reminder(EVENT, session, late) == (1, "2026-12-10T04:00:00.000000Z")
    assert next_reminder(EVENT, session, datetime(2026, 12, 10, 4, 30, tzinfo=UTC)) is None
    with pytest.raises(ValueError, match="earliest reminder first"):
        validated(EventDefinition, {**dumped(EventDefinition, EVENT), "reminders_hours_before": [1, 24]})


class Registrations:
    """The dispatcher's view of registrations: their due reminders, and where each was moved."""

    def __init__(self, due: list) -> None:
        self.due, self.moved, self.queued = due, {}, []

    def due_reminders(self, until: str, limit: int) -> list:
        return [entry for entry in self.due if entry.at <= until]

    def move_reminder(self, due, following) -> None:
        self.moved[due.message.lead_id] = following

    def registration(self, event_id: str, lead_id: str) -> dict | None:
        return {"session": "2026-12-10", "status": "registered"} if lead_id != "gone" else None

    def send_batch(self, messages: list) -> None:
        self.queued += messages


def test_a_due_reminder_goes_only_while_the_config_still_has_it_then_moves_on_or_is_rescheduled():
    from nurture.domain.events.reminders import DueReminder, queue_reminders
    from nurture.domain.events.requests import ReminderMessage

    def due(lead: str, hours: int, at: str) -> DueReminder:
        return DueReminder(ReminderMessage.of(lead_id=lead, event_id=EVENT_ID, hours_before=hours), at, f"{at}#x")

    now = datetime(2026, 12, 9, 5, 0, 30, tzinfo=UTC)
    store = Registrations([due("kept", 24, "2026-12-09T05:00:00.000000Z"),
                           due("moved", 24, "2026-12-08T05:00:00.000000Z"),  # the session was a day later then
                           due("dropped", 48, "2026-12-08T05:00:00.000000Z"),  # a reminder no longer configured
                           due("gone", 24, "2026-12-09T05:00:00.000000Z")])
    assert queue_reminders(store, store, CONFIG.events, now) == 1
    assert [message.lead_id for message in store.queued] == ["kept"]
    assert store.moved == {"kept": (1, "2026-12-10T04:00:00.000000Z"), "moved": (1, "2026-12-10T04:00:00.000000Z"),
                           "dropped": (1, "2026-12-10T04:00:00.000000Z"), "gone": None}


def test_only_cancelling_a_place_not_a_waitlist_one_asks_for_a_promotion():
    from nurture.domain.events.requests import PromotionMessage, requested_promotion

    cancelled = {"type": "event_cancelled", "name": EVENT_ID, "session": "2026-12-10", "status": "registered",
                 "event_id": "e1", "occurred_at": "2026-12-04T01:00:00.000000Z"}
    assert requested_promotion("L1", cancelled, CONFIG.events) == PromotionMessage.of(
        lead_id="L1", event_id=EVENT_ID, session_id="2026-12-10", offer_id="e1")  # the cancellation's own offer
    assert requested_promotion("L1", {**cancelled, "status": "waitlisted"}, CONFIG.events) is None
    assert requested_promotion("L1", {**cancelled, "session": "2027-01-01"}, CONFIG.events) is None


def test_the_registration_page_shows_the_configs_words_escaped_and_posts_to_cancel():
    from nurture.http.pages import registration_page

    shown = registration_page("en", "waitlisted", "<b>Scoring</b> & more", "Thu, 10 December 2026")
    assert "&lt;b&gt;Scoring&lt;/b&gt; &amp; more" in shown and '<form method="post">' in shown
    assert "Leave the waitlist" in shown
    assert '<form' not in registration_page("ja", "started", "セミナー", "2026年12月10日")
    assert '<form' not in registration_page("ja", "cancelled", "セミナー", "")

