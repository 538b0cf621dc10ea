"""A session's attendance from the participant reports Zoom and Teams export (each language, their encodings and
sections), the session it is of, and who is marked attended or no-show, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from nurture.config.events import EventDefinition
from nurture.config.records import dumped, validated
from nurture.domain.activity import Activity
from nurture.domain.errors import LeadGone
from nurture.domain.events.attendance import read_attendance, record_attendance, session_of
from nurture.domain.events.requests import FollowUpMessage, requested_follow_up
from nurture.domain.importing import ImportRefused
from nurture.domain.text import email_key
from tests.attendance_reports import Person, teams_en, teams_ja, zoom_meeting_ja, zoom_webinar_en
from tests.unit.test_events import CONFIG, EVENT, EVENT_ID

AFTER = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)  # 16:00 in Tokyo, the first session over
US = [("came@example.co.jp", "12/10/2026 01:58:12 PM", "12/10/2026 03:00:00 PM", 62),
      ("brief@example.co.jp", "12/10/2026 02:30:00 PM", "12/10/2026 02:32:00 PM", 2),
      ("never@example.co.jp", None, None, 0)]


def _ja(us: str | None) -> str | None:
    if us is None:
        return None
    moment = datetime.strptime(us, "%m/%d/%Y %I:%M:%S %p")
    return moment.strftime("%Y/%m/%d %H:%M:%S")


def _teams_us(us: str | None) -> str | None:
    if us is None:
        return None
    moment = datetime.strptime(us, "%m/%d/%Y %I:%M:%S %p")
    return f"{moment:%m/%d/%y}, {moment.hour % 12 or 12}:{moment:%M:%S %p}"


REPORTS: dict[str, Callable[[list[Person]], bytes]] = {
    "zoom webinar (en)": zoom_webinar_en,
    "zoom meeting (ja, Shift_JIS)": lambda people: zoom_meeting_ja(
        [(e, _ja(j), _ja(left), m) for e, j, left, m in people]),
    "teams (en, UTF-16)": lambda people: teams_en([(e, _teams_us(j), _teams_us(left), m) for e, j, left, m in people]),
    "teams (ja, UTF-16)": lambda people: teams_ja([(e, _ja(j), _ja(left), m) for e, j, left, m in people]),
}


@pytest.mark.parametrize("tool", REPORTS)
def test_every_tools_report_gives_the_same_people_their_first_join_and_their_minutes(tool: str):
    report = read_attendance(REPORTS[tool](US), "Asia/Tokyo")
    came = {a.email: (a.joined_at.isoformat() if a.joined_at else None, round(a.minutes or 0))
            for a in report.attendees.values() if a.attended}
    assert came == {"came@example.co.jp": ("2026-12-10T13:58:12+09:00", 62),
                    "brief@example.co.jp": ("2026-12-10T14:30:00+09:00", 2)}
    assert "host@mirai.example" not in {a.email for a in report.attendees.values()}  # hosts and organizers: staff
    assert report.unknown_columns == [] and report.rejected == []


def test_zoom_rows_per_join_add_up_and_a_guest_without_an_address_is_counted():
    rejoined = [US[0], ("came@example.co.jp", "12/10/2026 03:01:00 PM", "12/10/2026 03:05:00 PM", 4)]
    report = read_attendance(REPORTS["zoom meeting (ja, Shift_JIS)"](rejoined), "Asia/Tokyo")
    (attendee,) = report.attendees.values()
    assert (attendee.minutes, attendee.rows, report.without_address) == (66, (2, 3), 1)


def test_unknown_columns_are_named_and_bad_rows_rejected_by_number():
    text = ("メール,参加時刻,退出時刻,期間（分）,アンケート回答\n"
            "ok@example.co.jp,2026/12/10 14:00:00,2026/12/10 15:00:00,60,とても良い\n"
            "not-an-address,2026/12/10 14:00:00,2026/12/10 15:00:00,60,\n"
            "late@example.co.jp,昨日の午後,2026/12/10 15:00:00,60,\n")
    report = read_attendance(text.encode(), "Asia/Tokyo")
    assert report.unknown_columns == ["アンケート回答"]
    assert [(r.row, r.reasons[0].split(" (")[0]) for r in report.rejected] == [
        (3, "email: is not an address"), (4, "a time or a duration is unreadable")]
    with pytest.raises(ImportRefused, match="No table with an email column"):
        read_attendance("名前,参加時刻\n山田,2026/12/10 14:00:00\n".encode(), "Asia/Tokyo")
    mapped = read_attendance("参加者の連絡先,参加時刻\nok@example.co.jp,2026/12/10 14:00:00\n".encode(), "Asia/Tokyo",
                             overrides={"参加者の連絡先": "email"})
    assert [a.email for a in mapped.attendees.values()] == ["ok@example.co.jp"]


def test_the_session_is_the_named_one_or_the_one_its_join_times_fall_in():
    report = read_attendance(zoom_webinar_en(US), "Asia/Tokyo")
    assert session_of(report, EVENT, None).id == "2026-12-10"
    assert session_of(report, EVENT, "2026-12-17").id == "2026-12-17"
    with pytest.raises(ImportRefused, match="not a session of the event"):
        session_of(report, EVENT, "2027-01-01")
    nobody = read_attendance(zoom_webinar_en([US[2]]), "Asia/Tokyo")
    with pytest.raises(ImportRefused, match="give --session"):
        session_of(nobody, EVENT, None)


class Store:
    def __init__(self, leads: dict[str, str], registered: list[str], erased: set[str] | None = None) -> None:
        self.leads, self.registered, self.erased = leads, registered, erased or set()
        self.marked: dict[tuple[str, str], Activity] = {}

    def find_lead_id(self, key: str) -> str | None:
        return self.leads.get(key)

    def session_registrations(self, event_id: str, session_id: str) -> list[str]:
        return self.registered

    def mark_attendance(self, event_id: str, session_id: str, lead_id: str, activity: Activity) -> bool:
        if lead_id in self.erased:
            raise LeadGone(lead_id)
        if (lead_id, session_id) in self.marked:
            return False
        self.marked[(lead_id, session_id)] = activity
        return True


def test_attendees_are_marked_attended_registrants_who_stayed_away_or_left_at_once_no_shows_and_once_only():
    leads = {email_key("came@example.co.jp"): "L-came", email_key("brief@example.co.jp"): "L-brief",
             email_key("never@example.co.jp"): "L-never"}
    store = Store(leads, ["L-brief", "L-never", "L-quiet"])
    report = read_attendance(zoom_webinar_en([*US, ("stranger@example.co.jp", "12/10/2026 02:00:00 PM",
                                                    "12/10/2026 03:00:00 PM", 60)]), "Asia/Tokyo")
    session = EVENT.sessions[0]
    outcome = record_attendance(EVENT_ID, EVENT, session, report, store, AFTER, 730)
    # came without a place (walk-in); brief stayed under attended_min_minutes (5); never and quiet did not come
    assert (outcome.attended, outcome.walk_ins, outcome.no_show, outcome.not_leads) == (1, 1, 3, [18])
    kinds = {lead: activity.type for (lead, _), activity in store.marked.items()}
    assert kinds == {"L-came": "event_attended", "L-brief": "event_no_show", "L-never": "event_no_show",
                     "L-quiet": "event_no_show"}
    came = store.marked[("L-came", session.id)]
    assert (came.occurred_at, came.data["minutes"], came.data["name"], came.data["session"]) == (
        "2026-12-10T04:58:12.000000Z", 62, EVENT_ID, session.id)
    assert store.marked[("L-quiet", session.id)].occurred_at == "2026-12-10T06:00:00.000000Z"  # the session's end
    again = record_attendance(EVENT_ID, EVENT, session, report, store, AFTER, 730)
    assert (again.attended, again.no_show, again.unchanged) == (0, 0, 4)


def test_a_session_not_yet_over_or_a_lead_erased_meanwhile_writes_nothing_for_it():
    report = read_attendance(zoom_webinar_en(US), "Asia/Tokyo")
    store = Store({email_key("came@example.co.jp"): "L-came"}, ["L-came"], erased={"L-came"})
    with pytest.raises(ImportRefused, match="import its report after it ends"):
        record_attendance(EVENT_ID, EVENT, EVENT.sessions[0], report, store, datetime(2026, 12, 10, 5, 0, tzinfo=UTC),
                          730)
    outcome = record_attendance(EVENT_ID, EVENT, EVENT.sessions[0], report, store, AFTER, 730)
    assert (outcome.attended, outcome.not_leads, store.marked) == (0, [15], {})


def test_only_an_imported_attendance_of_a_known_session_asks_for_its_follow_up():
    marked = {"type": "event_no_show", "name": EVENT_ID, "session": "2026-12-10", "source": "import"}
    assert requested_follow_up("L1", marked, CONFIG.events) == FollowUpMessage.of(
        lead_id="L1", event_id=EVENT_ID, session_id="2026-12-10", attendance="event_no_show")
    assert requested_follow_up("L1", {**marked, "session": "2027-01-01"}, CONFIG.events) is None
    assert requested_follow_up("L1", {**marked, "source": "api"}, CONFIG.events) is None
    assert requested_follow_up("L1", {**marked, "type": "offline"}, CONFIG.events) is None


def test_the_event_funnel_counts_each_session_from_invitation_to_handoff_within_thirty_days():
    from nurture.config.events import EventsConfig
    from nurture.domain.events.funnel import event_funnel

    invited = validated(EventsConfig, {"events": {EVENT_ID: {**dumped(EventDefinition, EVENT),
                                                                 "invitations": ["seminar-2027-06"]}}})
    registrations = [{"PK": f"EVENT#{EVENT_ID}", "SK": f"REG#{lead}", "lead_id": lead, "session": session,
                      "status": status} for lead, session, status in (
        ("L1", "2026-12-10", "registered"), ("L2", "2026-12-10", "registered"), ("L3", "2026-12-10", "waitlisted"),
        ("L4", "2026-12-17", "registered"))]
    marked = {"L1": [{"type": "event_attended", "name": EVENT_ID, "session": "2026-12-10"}],
              "L2": [{"type": "event_no_show", "name": EVENT_ID, "session": "2026-12-10"}],
              "L5": [{"type": "email_sent", "campaign": "seminar-2027-06"}, {"type": "email_sent", "campaign": "x"}],
              "L6": [{"type": "email_sent", "campaign": "seminar-2027-06"}]}
    handoffs = {"L1": [datetime(2026, 12, 20, tzinfo=UTC)], "L2": [datetime(2027, 2, 1, tzinfo=UTC)],
                "L4": [datetime(2026, 12, 1, tzinfo=UTC)]}  # L2's too late, L4's before its session
    (funnel,) = event_funnel(invited, registrations, marked, handoffs)
    assert funnel["invited"] == 2
    assert [{k: row[k] for k in ("session", "registered", "waitlisted", "attended", "no_show", "handed_off")}
            for row in funnel["sessions"]] == [
        {"session": "2026-12-10", "registered": 2, "waitlisted": 1, "attended": 1, "no_show": 1, "handed_off": 1},
        {"session": "2026-12-17", "registered": 1, "waitlisted": 0, "attended": 0, "no_show": 0, "handed_off": 0}]
    assert event_funnel(CONFIG.events, [], {}, {})[0]["invited"] is None  # no invitation campaigns named


def test_a_report_of_hosts_only_an_impossible_duration_or_an_unreadable_csv_is_refused_or_rejected():
    hosts_only = zoom_webinar_en([]).replace(b"Attendee Details", b"Host Details")
    with pytest.raises(ImportRefused, match="nobody in its audience"):
        read_attendance(hosts_only, "Asia/Tokyo")
    for bad in ("nan", "inf", "-5"):
        report = read_attendance(f"email,duration\nx@example.co.jp,{bad}\n".encode(), "Asia/Tokyo")
        assert [r.row for r in report.rejected] == [2] and report.attendees == {}
    with pytest.raises(ImportRefused, match="not a readable CSV"):
        read_attendance(b"email,duration\n" + b"x" * 200_000 + b"@example.co.jp,5\n", "Asia/Tokyo")
