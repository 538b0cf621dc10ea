"""A session's attendance, read from the participant report its webinar tool exports: Zoom Webinar's attendee report
and Zoom Meetings' participant list (CSV in sections, one row per join), Microsoft Teams' attendance report (UTF-16,
tab-separated, in sections), in Japanese or English, or any sheet with an email column. Then each lead registered
for the session is marked `event_attended` or `event_no_show`, once.

Pure: bytes and the event in, people and what to record out; the store is given."""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from msgspec import Struct, field

from nurture.config.events import EventDefinition, Session
from nurture.domain.activity import Activity, new_activity
from nurture.domain.errors import LeadGone, NurtureError
from nurture.domain.events.requests import ATTENDED, NO_SHOW, Attendance
from nurture.domain.importing import ImportRefused, Rejected, column_mapping, decode, folded_header, parse_moment
from nurture.domain.text import InvalidEmail, email_key, normalize_email

IGNORED = ""  # a column the tools export that attendance does not need

# Header (folded as importing.folded_header does) -> column, as Zoom and Teams name them in each language.
HEADERS = {
    **dict.fromkeys(["email", "メール", "メールアドレス", "電子メール", "useremail", "ユーザーメール", "emailaddress",
                     "メールアドレス(email)"], "email"),
    **dict.fromkeys(["attended", "出席済み", "出席", "出席状況", "参加済み", "参加状況"], "attended"),
    **dict.fromkeys(["jointime", "firstjoin", "参加時間", "参加時刻", "参加日時", "最初の参加", "最初の参加時刻",
                     "入室時間", "入室時刻"], "joined"),
    **dict.fromkeys(["leavetime", "lastleave", "退出時間", "退出時刻", "退出日時", "最後の退出", "最後の退出時刻",
                     "退室時間", "退室時刻"], "left"),
    **dict.fromkeys(["timeinsession(minutes)", "duration(minutes)", "duration(mins)", "duration", "minutes",
                     "inmeetingduration", "attendanceduration", "セッション時間(分)", "セッションの時間(分)",
                     "期間(分)", "時間(分)", "参加時間(分)", "視聴時間(分)", "会議の長さ", "会議中の時間",
                     "会議への参加時間", "出席時間"], "duration"),
    **dict.fromkeys(["role", "役割", "ロール"], "role"),
    # What the reports carry besides, named so that only a column nobody knows is reported as unknown.
    **dict.fromkeys(["username(originalname)", "name(originalname)", "name", "fullname", "firstname", "lastname",
                     "ユーザー名(元の名前)", "名前(元の名前)", "名前", "氏名", "名", "姓", "phone", "電話", "電話番号",
                     "registrationtime", "登録時間", "登録時刻", "approvalstatus", "承認ステータス", "isguest", "guest",
                     "ゲスト", "country/regionname", "国/地域名", "国/地域", "sourcename", "ソース名",
                     "participantid(upn)", "参加者id(upn)", "recordingconsent", "録画の同意", "attendeetype",
                     "jobtitle", "役職", "organization", "組織", "会社名", "registrationstatus"], IGNORED),
}
# A section of the report that lists the hosts' side, not the audience, or the same joins again (Teams' activities).
SKIPPED_SECTIONS = ("host", "panelist", "organizer", "presenter", "activities", "ホスト", "パネリスト", "開催者",
                    "発表者", "アクティビティ")
STAFF_ROLES = {"host", "co-host", "cohost", "panelist", "organizer", "presenter", "ホスト", "共同ホスト", "パネリスト",
               "開催者", "発表者", "共同開催者"}
YES = {"yes", "y", "true", "1", "はい", "出席", "参加", "済", "○", "◯"}
NO = {"no", "n", "false", "0", "いいえ", "欠席", "不参加", "未参加", "×", "-", "--"}
SESSION_SLACK = timedelta(hours=3)  # a join this close to a session (early, or running late) belongs to it
# The tools' English forms; the year-first ones (2026/12/10 13:58:12, 2026年12月10日, ISO) are importing's.
_TIME_FORMS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %I:%M %p",
               "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
               "%m/%d/%y, %I:%M:%S %p", "%m/%d/%y, %I:%M %p", "%m/%d/%y %I:%M:%S %p", "%m/%d/%y, %H:%M:%S",
               "%b %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M %p", "%b %d, %Y %H:%M:%S", "%b %d, %Y %H:%M")
_SPAN = re.compile(r"^(?:(\d+)\s*(?:h|hr|hrs|hours?|時間))?\s*(?:(\d+)\s*(?:m|min|mins|minutes?|分))?\s*"
                   r"(?:(\d+)\s*(?:s|sec|secs|seconds?|秒))?$")
_CLOCK = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")


class Attendee(Struct, frozen=True):
    """One person of the report, every row of theirs taken together (Zoom writes a row per join)."""

    email: str
    rows: tuple[int, ...]
    attended: bool  # the report says they came
    joined_at: datetime | None  # their first join, aware
    minutes: float | None  # their time in the session, when the report tells it


class AttendanceReport(Struct):
    encoding: str
    unknown_columns: list[str]
    rows: int = 0
    attendees: dict[str, Attendee] = field(default_factory=dict)  # by email key
    without_address: int = 0  # rows of guests who gave no address: nobody to mark
    rejected: list[Rejected] = field(default_factory=list)


def report_moment(text: str, zone: str) -> datetime | None:
    """A report's time as Zoom and Teams write it, in either language (local time in `zone` unless it carries an
    offset); None for the dashes of someone who never joined. ValueError when unreadable."""
    value = " ".join(unicodedata.normalize("NFKC", text).replace("午後", "PM ").replace("午前", "AM ").split())
    if value in ("", "-", "--"):
        return None
    marker = re.search(r"(?:^| )(AM|PM) ", value)
    if marker:  # 2026/12/10 午後 1:58:12 → 2026/12/10 1:58:12 PM
        value = f"{value[:marker.start()]} {value[marker.end():]} {marker.group(1)}".strip()
    for form in _TIME_FORMS:
        try:
            return datetime.strptime(value, form).replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            continue
    return parse_moment(value, zone)


def parse_minutes(text: str) -> float | None:
    """A time in the session: minutes (62, 62.5), a span (1h 2m 3s, 1 時間 2 分 3 秒) or a clock (01:02:03)."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if value in ("", "-", "--"):
        return None
    try:
        minutes = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"not a duration: {text!r}")
        return minutes
    clock = _CLOCK.fullmatch(value)
    if clock:
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        return hours * 60 + minutes + seconds / 60
    span = _SPAN.fullmatch(value)
    if span and any(span.groups()):
        hours, minutes, seconds = (int(part or 0) for part in span.groups())
        return hours * 60 + minutes + seconds / 60
    raise ValueError(f"not a duration: {text!r}")


def read_attendance(data: bytes, zone: str, encoding: str | None = None,
                    overrides: dict[str, str] | None = None) -> AttendanceReport:
    """Everyone the report lists in its audience's tables (its hosts' and panelists' left out), by address. A table
    starts at a row naming an email column and ends at the next blank row or section title. Columns nobody knows
    are named, not read."""
    text, used = decode(data, encoding)
    head = text.splitlines()[:50]
    tabbed = sum("\t" in line for line in head)  # Teams separates by tabs, and writes commas in its times
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter="\t" if tabbed and tabbed >= sum("," in line for line in head) else ",")
    found: dict[str, list[tuple[int, dict[str, str]]]] = {}
    unknown: list[str] = []
    tables = 0
    mapping: dict[int, str] | None = None
    title = ""
    report = AttendanceReport(used, unknown)
    try:
        for row_number, row in enumerate(reader, start=1):
            cells = [cell.strip() for cell in row]
            filled = [cell for cell in cells if cell]
            if len(filled) <= 1:  # a blank row or a section's title ("Attendee Details", "2. 参加者") ends a table
                mapping, title = None, filled[0] if filled else title
                continue
            candidate = {} if any("@" in cell for cell in cells) else column_mapping(cells, overrides, HEADERS)
            if "email" in candidate.values() and len(candidate) >= 2:  # a header row: its table begins
                tables += 1
                skipped = any(word in folded_header(title) for word in SKIPPED_SECTIONS)
                mapping = None if skipped else candidate
                unknown += [cell for index, cell in enumerate(cells) if cell and index not in candidate
                            and folded_header(cell) not in HEADERS and cell not in unknown]
                continue
            if mapping is None:
                continue  # a summary's lines, or a staff table's
            values = {column: cells[index] for index, column in mapping.items() if column and index < len(cells)}
            if folded_header(values.get("role", "")) in STAFF_ROLES:
                continue
            report.rows += 1
            if not values.get("email"):
                report.without_address += 1
                continue
            try:
                address = normalize_email(values["email"])
            except InvalidEmail:
                report.rejected.append(Rejected(row_number, ["email: is not an address"]))
                continue
            found.setdefault(email_key(address), []).append((row_number, {**values, "email": address}))
    except csv.Error as error:  # a cell over csv's size limit, a NUL byte
        raise ImportRefused(f"The file is not a readable CSV: {error}") from None
    if tables == 0:
        raise ImportRefused("No table with an email column: this is not a participant report Zoom or Teams exports "
                            "(or name the address column with --map '列名:email').")
    if report.rows == 0:  # e.g. only the hosts' table: every registrant would be marked a no-show
        raise ImportRefused("The report lists nobody in its audience (only hosts, panelists or organizers).")
    for key, rows in found.items():
        attendee = _attendee(rows, zone)
        if isinstance(attendee, Attendee):
            report.attendees[key] = attendee
        else:
            report.rejected.append(attendee)
    return report


def _attendee(rows: list[tuple[int, dict[str, str]]], zone: str) -> Attendee | Rejected:
    """A person's rows taken together: they came if any row says so, from their first join, for the sum of their
    rows' minutes (or of their joins' spans, when the report gives no duration)."""
    numbers = tuple(number for number, _ in rows)
    came, joins, total, known = False, [], 0.0, False
    for number, values in rows:
        try:
            joined = report_moment(values.get("joined", ""), zone)
            left = report_moment(values.get("left", ""), zone)
            minutes = parse_minutes(values.get("duration", ""))
        except ValueError as error:
            return Rejected(number, [f"a time or a duration is unreadable ({error})"])
        said = folded_header(values.get("attended", ""))
        if said and said not in YES and said not in NO:
            return Rejected(number, [f"attended: is yes or no, not {values['attended']!r}"])
        if minutes is None and joined is not None and left is not None and left >= joined:
            minutes = (left - joined).total_seconds() / 60
        if minutes is not None:
            total, known = total + minutes, True
        if joined is not None:
            joins.append(joined)
        came = came or (said in YES if said else joined is not None or bool(minutes))
    return Attendee(rows[0][1]["email"], numbers, came, min(joins) if joins else None, total if known else None)


def session_of(report: AttendanceReport, event: EventDefinition, session_id: str | None) -> Session:
    """The session the report is of: the one named, the event's only one, or the one its attendees joined."""
    if session_id is not None:
        session = event.session(session_id)
        if session is None:
            raise ImportRefused(f"--session {session_id!r} is not a session of the event: "
                                f"{', '.join(s.id for s in event.sessions)}")
        return session
    if len(event.sessions) == 1:
        return event.sessions[0]
    votes = {s.id: 0 for s in event.sessions}
    for attendee in report.attendees.values():
        for s in event.sessions:
            if attendee.joined_at is not None and \
                    event.starts_at(s) - SESSION_SLACK <= attendee.joined_at <= event.ends_at(s) + SESSION_SLACK:
                votes[s.id] += 1
    best = max(votes.values())
    chosen = [session_id for session_id, count in votes.items() if count == best]
    if best == 0 or len(chosen) > 1:
        raise ImportRefused("The report's join times do not tell which session it is of: give --session "
                            f"(one of {', '.join(s.id for s in event.sessions)}).")
    return event.session(chosen[0]) or event.sessions[0]


class AttendanceStore(Protocol):
    def find_lead_id(self, email_key: str) -> str | None: ...

    def session_registrations(self, event_id: str, session_id: str) -> list[str]:
        """The leads holding a place (not a waitlist one) in the session."""
        ...

    def mark_attendance(self, event_id: str, session_id: str, lead_id: str, activity: Activity) -> bool:
        """The activity under the lead and the session's count of its kind moved, once per lead and session: False
        when an earlier import marked it; LeadGone when the lead does not exist."""
        ...


class AttendanceOutcome(Struct):
    session: str
    attended: int = 0
    no_show: int = 0
    walk_ins: int = 0  # attendees who held no place in the session (waitlisted, another session's, none)
    unchanged: int = 0  # leads an earlier import of the session marked
    not_leads: list[int] = field(default_factory=list)  # rows whose address is no lead's
    failed: list[str] = field(default_factory=list)  # what the store refused (the run is safe to repeat)


def record_attendance(event_id: str, event: EventDefinition, session: Session, report: AttendanceReport,
                      store: AttendanceStore, now: datetime, retention_days: int,
                      progress: Callable[[int, int], None] = lambda done, total: None) -> AttendanceOutcome:
    """Mark each lead of the report who came (for at least the event's `attended_min_minutes`) as attended, and
    each other lead registered for the session as a no-show. The session must have ended."""
    ends = event.ends_at(session)
    if now < ends:
        raise ImportRefused(f"The session {session.id} ends at {ends.isoformat()}: import its report after it ends.")
    outcome = AttendanceOutcome(session.id)
    registered = set(store.session_registrations(event_id, session.id))
    came: dict[str, Attendee] = {}
    for attendee in report.attendees.values():
        if not attendee.attended or (attendee.minutes is not None and attendee.minutes < event.attended_min_minutes):
            continue
        lead_id = store.find_lead_id(email_key(attendee.email))
        if lead_id is None:
            outcome.not_leads.extend(attendee.rows)
        else:
            came[lead_id] = attendee
    work: list[tuple[str, Attendance, Attendee | None]] = [(lead_id, ATTENDED, attendee)
                                                        for lead_id, attendee in came.items()]
    work += [(lead_id, NO_SHOW, None) for lead_id in sorted(registered - set(came))]
    for done, (lead_id, kind, person) in enumerate(work, start=1):
        at = (person.joined_at if person and person.joined_at else event.starts_at(session)) \
            if kind == ATTENDED else ends
        data: dict[str, Any] = {"lead_id": lead_id, "name": event_id, "session": session.id, "source": "import",
                                "minutes": round(person.minutes) if person and person.minutes else None}
        try:
            if not store.mark_attendance(event_id, session.id, lead_id, new_activity(kind, at, retention_days, data)):
                outcome.unchanged += 1
            elif kind == NO_SHOW:
                outcome.no_show += 1
            else:
                outcome.attended += 1
                outcome.walk_ins += lead_id not in registered
        except LeadGone:
            if person is not None:
                outcome.not_leads.extend(person.rows)  # erased since its address was read
        except NurtureError as error:
            outcome.failed.append(str(error))
        progress(done, len(work))
    return outcome
