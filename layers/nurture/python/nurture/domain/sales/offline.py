"""Offline activity: what sales and event staff record by hand (a meeting, a visit, a trade-show booth visit), through
POST /v1/leads/{id}/activities or `nurture activity import`. Each is an `offline` activity with its kind in `name`,
scored by config/scoring.yaml's rules like any other activity, and recorded once per lead and client-supplied id."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config.scoring import OFFLINE_ACTIVITY, ScoringRules
from nurture.domain.activity import Activity, new_activity
from nurture.domain.clock import iso
from nurture.domain.errors import FieldProblem, LeadGone, LeadNotFound, NurtureError, ValidationFailed
from nurture.domain.importing import ImportRefused, Rejected, column_mapping, decode, parse_moment
from nurture.domain.text import InvalidEmail, clean_text, email_key, normalize_email

CLIENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"  # the caller's own id of the activity (its CRM's, say)
MAX_BY, MAX_NOTE = 100, 2000
# Clocks differ: a meeting recorded as it ends may be stamped a little ahead of ours.
FUTURE_SLACK = timedelta(minutes=5)
Source = Literal["api", "import"]


class OfflineEntry(Struct, frozen=True):
    client_id: str
    kind: str  # one of scoring.yaml's offline_activities
    by: str  # who met the person, as they name themselves
    occurred_at: datetime | None = None  # aware; None: now
    note: str | None = None
    source: Source = "api"
    caller: str | None = None  # the IAM principal that signed the request, in AWS


class OfflineStore(Protocol):
    def record_once(self, lead_id: str, activity: Activity, client_id: str | None = None) -> bool:
        """The activity under the lead, once per `client_id`: False when it was recorded before; LeadGone when
        the lead does not exist (or was erased)."""
        ...


def entry_problems(entry: OfflineEntry, rules: ScoringRules, now: datetime, retention_days: int) -> list[FieldProblem]:
    """What makes the entry unrecordable: an unknown kind, an id or a time out of bounds, nothing said by whom."""
    problems = []
    if not re.fullmatch(CLIENT_ID, entry.client_id):
        problems.append(FieldProblem("id", "invalid", "is 1-64 letters, digits, '.', '_', ':' or '-'"))
    if entry.kind not in rules.offline_activities:
        known = ", ".join(rules.offline_activities) or "none: declare them in scoring.yaml's offline_activities"
        problems.append(FieldProblem("type", "unknown", f"is one of {known}"))
    if not entry.by or len(entry.by) > MAX_BY:
        problems.append(FieldProblem("by", "invalid", f"names who recorded it, at most {MAX_BY} characters"))
    if entry.note is not None and len(entry.note) > MAX_NOTE:
        problems.append(FieldProblem("note", "too_long", f"is at most {MAX_NOTE} characters"))
    if entry.occurred_at is not None:
        if entry.occurred_at > now + FUTURE_SLACK:
            problems.append(FieldProblem("occurred_at", "in_future", "is not in the future"))
        elif entry.occurred_at <= now - timedelta(days=retention_days):
            problems.append(FieldProblem("occurred_at", "too_old",
                                         f"is within the {retention_days} days activity is kept"))
    return problems


def record_offline(lead_id: str, entry: OfflineEntry, store: OfflineStore, rules: ScoringRules, now: datetime,
                   retention_days: int) -> dict[str, Any]:
    """Record the entry on the lead (LeadNotFound if there is none); a second entry with its id changes nothing."""
    problems = entry_problems(entry, rules, now, retention_days)
    if problems:
        raise ValidationFailed("The activity cannot be recorded.", problems)
    activity = new_activity(OFFLINE_ACTIVITY, entry.occurred_at or now, retention_days, {
        "lead_id": lead_id, "name": entry.kind, "by": entry.by, "note": entry.note, "client_id": entry.client_id,
        "source": entry.source, "caller": entry.caller})
    try:
        recorded = store.record_once(lead_id, activity, entry.client_id)
    except LeadGone as gone:
        raise LeadNotFound(f"There is no lead '{lead_id}'.") from gone
    return {"lead_id": lead_id, "id": entry.client_id, "type": entry.kind, "recorded": recorded,
            **({"occurred_at": activity.occurred_at} if recorded else {})}


# --- a CSV of activities: `nurture activity import` -------------------------------------------------------------

# Header (folded as importing.folded_header does) -> column.
HEADERS = {
    **dict.fromkeys(["メールアドレス", "メール", "email", "mail", "emailaddress"], "email"),
    **dict.fromkeys(["リードid", "leadid", "lead"], "lead_id"),
    **dict.fromkeys(["種別", "種類", "活動", "活動種別", "type", "kind", "activity", "activitytype"], "type"),
    **dict.fromkeys(["日時", "日付", "実施日", "実施日時", "来場日時", "来訪日時", "date", "datetime", "occurredat",
                     "when"], "occurred_at"),
    **dict.fromkeys(["担当者", "記録者", "対応者", "by", "staff", "recordedby"], "by"),
    **dict.fromkeys(["メモ", "備考", "内容", "note", "notes", "memo", "comment"], "note"),
    **dict.fromkeys(["id", "活動id", "activityid", "externalid"], "id"),
}
DATE_FORMS = "a date (2026/11/20) or a date and time (2026/11/20 14:30)"


class Defaults(Struct, frozen=True):
    """What rows without the column get: the import's options."""

    kind: str | None = None
    occurred_at: str | None = None
    by: str | None = None


class PlannedRow(Struct, frozen=True):
    row: int  # as a spreadsheet numbers it: the header is row 1
    lead_id: str | None
    email: str | None
    entry: OfflineEntry


class ActivityPlan(Struct):
    encoding: str
    ignored_columns: list[str]
    rows: int = 0
    entries: list[PlannedRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def plan_activity_import(data: bytes, rules: ScoringRules, now: datetime, retention_days: int, defaults: Defaults,
                         encoding: str | None = None, overrides: dict[str, str] | None = None) -> ActivityPlan:
    """Every row checked as the API checks a body; a row's id is its `id` column or, without one, a hash of what it
    says, so the same file imported again records nothing new."""
    text, used = decode(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = next(reader, None)
    if not headers:
        raise ImportRefused("The file is empty: the first row must name the columns.")
    mapping = column_mapping(headers, overrides, HEADERS)
    columns = set(mapping.values())
    if not columns & {"email", "lead_id"}:
        raise ImportRefused("No email or lead id column: name it メールアドレス (email) or リードID (lead_id), or map "
                            "one with --map '列名:email'.")
    for column, given, option in (("type", defaults.kind, "--type"), ("occurred_at", defaults.occurred_at, "--at"),
                                  ("by", defaults.by, "--by")):
        if column not in columns and given is None:
            raise ImportRefused(f"No {column} column: add one, or give every row's with {option}.")
    try:  # an option every row may take is checked once, not row by row
        default_moment = parse_moment(defaults.occurred_at, rules.timezone) if defaults.occurred_at else None
    except ValueError as error:
        raise ImportRefused(f"--at is not a date: {DATE_FORMS}.") from error
    plan = ActivityPlan(used, [header for index, header in enumerate(headers) if index not in mapping and header])
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue  # the blank lines spreadsheets leave at the end
        plan.rows += 1
        cells = {column: row[index].strip() for index, column in mapping.items() if index < len(row)}
        planned = _planned(row_number, cells, defaults, default_moment, rules.timezone)
        if isinstance(planned, PlannedRow):
            planned_problems = entry_problems(planned.entry, rules, now, retention_days)
            if not planned_problems:
                plan.entries.append(planned)
                continue
            planned = [f"{p.field}: {p.message}" for p in planned_problems]
        plan.rejected.append(Rejected(row_number, planned))
    return plan


def _planned(row: int, cells: dict[str, str], defaults: Defaults, default_moment: datetime | None, zone: str
             ) -> PlannedRow | list[str]:
    """The row's entry, or why it has none (its lead or its time unreadable)."""
    reasons: list[str] = []
    email, lead_id = None, cells.get("lead_id") or None
    if lead_id is None:
        try:
            email = normalize_email(cells.get("email", ""))
        except InvalidEmail:
            reasons.append("email: is not an address" if cells.get("email") else "email: is required")
    moment = default_moment
    try:
        moment = parse_moment(cells["occurred_at"], zone) if cells.get("occurred_at") else default_moment
    except ValueError:
        reasons.append(f"occurred_at: is {DATE_FORMS}")
    if reasons or moment is None:
        return reasons
    note = clean_text(cells.get("note") or "", multiline=True) or None
    entry = OfflineEntry(client_id=cells.get("id") or "", kind=cells.get("type") or defaults.kind or "",
                         by=clean_text(cells.get("by") or defaults.by or ""), occurred_at=moment, note=note,
                         source="import")
    if not entry.client_id:
        said = "\x1f".join([lead_id or email_key(email or ""), entry.kind, iso(moment), entry.by, entry.note or ""])
        entry = replace(entry, client_id="row-" + hashlib.sha256(said.encode()).hexdigest()[:32])
    return PlannedRow(row, lead_id, email, entry)


class ActivityOutcome(Struct):
    recorded: int = 0
    unchanged: int = 0  # rows an earlier run already recorded
    not_leads: list[int] = field(default_factory=list)  # rows whose address or id is no lead's
    failed: list[Rejected] = field(default_factory=list)


class LeadFinder(OfflineStore, Protocol):
    def find_lead_id(self, email_key: str) -> str | None: ...


def run_activity_import(plan: ActivityPlan, store: LeadFinder, rules: ScoringRules, now: datetime,
                        retention_days: int, progress: Callable[[int, int], None] = lambda done, total: None
                        ) -> ActivityOutcome:
    """Record every planned row on its lead; a row that fails is reported and retried by running the import again."""
    outcome = ActivityOutcome()
    for done, planned in enumerate(plan.entries, start=1):
        try:
            lead_id = planned.lead_id or store.find_lead_id(email_key(planned.email or ""))
            if lead_id is None:
                outcome.not_leads.append(planned.row)
            elif record_offline(lead_id, planned.entry, store, rules, now, retention_days)["recorded"]:
                outcome.recorded += 1
            else:
                outcome.unchanged += 1
        except LeadNotFound:
            outcome.not_leads.append(planned.row)
        except NurtureError as error:  # the store's refusals
            outcome.failed.append(Rejected(planned.row, [str(error)]))
        progress(done, len(plan.entries))
    return outcome
