"""Business-card lists (名刺リスト) from spreadsheets: decode, map columns, validate and deduplicate rows.

Each valid row becomes a Submission of an `import` form, so an imported lead is captured, scored and
enrolled exactly like one from a web form; the list's source is its `utm_source`, which sequences
and reports can select on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config.models import ConsentPolicy, FormDefinition, SubscriptionStart
from nurture.domain.activity import RequestContext
from nurture.domain.capture import CaptureResult, CaptureSettings, LeadStore, capture_submission
from nurture.domain.errors import NurtureError, ValidationFailed
from nurture.domain.submissions import Submission, validate_submission

IMPORT_FORM_ID = "import"
# Header (NFKC-folded, lower case, without spaces, '_' or '-') -> field.
HEADERS = {
    **dict.fromkeys(["氏名", "名前", "お名前", "name", "fullname", "contactname"], "name"),
    **dict.fromkeys(["姓", "苗字", "lastname", "familyname", "surname"], "last_name"),
    **dict.fromkeys(["名", "firstname", "givenname"], "first_name"),
    **dict.fromkeys(["会社名", "会社", "企業名", "社名", "company", "companyname", "organization"], "company"),
    **dict.fromkeys(["部署", "部署名", "所属", "部門", "department", "division"], "department"),
    **dict.fromkeys(["役職", "役職名", "肩書", "title", "jobtitle", "position"], "title"),
    **dict.fromkeys(["メールアドレス", "メール", "email", "mail", "emailaddress"], "email"),
    **dict.fromkeys(["電話番号", "電話", "tel", "phone", "phonenumber", "telephone"], "phone"),
    **dict.fromkeys(["業種", "業界", "industry"], "industry"),
    **dict.fromkeys(["従業員数", "社員数", "employees", "employeecount", "numberofemployees"], "employees"),
    **dict.fromkeys(["都道府県", "都道府県名", "所在地(都道府県)", "prefecture"], "prefecture"),
}
# Full-width digits and letters are folded where no one would mean them: in addresses and numbers.
_FOLDED = {"email", "phone", "employees"}


class ImportRefused(NurtureError):
    """The file as a whole cannot be imported (its encoding, or no email column)."""


class Rejected(Struct, frozen=True):
    row: int  # as a spreadsheet numbers it: the header is row 1
    reasons: list[str]


class ImportPlan(Struct):
    encoding: str
    rows: int = 0
    submissions: list[tuple[int, Submission]] = field(default_factory=list)
    duplicates_in_file: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with its BOM (as Microsoft Teams exports), else Shift_JIS
    (cp932, as Excel in Japan saves CSV)."""
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as error:
            raise ImportRefused(f"The file is not {encoding}: {error}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise ImportRefused(f"The file is not UTF-16 after all: {error}") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    for candidate in ("utf-8", "cp932"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise ImportRefused("The file is neither UTF-8 nor Shift_JIS (CP932): give its encoding with --encoding.")


_DATE = re.compile(r"^(\d{4})[/年.-](\d{1,2})[/月.-](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_moment(text: str, zone: str) -> datetime:
    """A spreadsheet's date or date and time (2026/11/20, 2026-11-20 14:30, 2026年11月20日, ISO 8601 with an
    offset); without an offset it is local time in `zone`, a date alone its midnight. ValueError otherwise."""
    value = text.strip()
    matched = _DATE.fullmatch(value)
    if matched:
        year, month, day, hour, minute, second = (int(part or 0) for part in matched.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone))


def folded_header(header: str) -> str:
    """A column's header as the header tables spell it: NFKC-folded, lower case, without spaces, '_' or '-'."""
    return "".join(unicodedata.normalize("NFKC", header).lower().split()).replace("_", "").replace("-", "")


def column_mapping(headers: list[str], overrides: dict[str, str] | None = None,
                   table: dict[str, str] = HEADERS) -> dict[int, str]:
    """Column index -> field, by header in Japanese or English (`table`: folded header -> field); `overrides` maps
    a header to a field (or to "" to skip the column). The first column of each field counts."""
    wanted = {folded_header(header): target for header, target in (overrides or {}).items()}
    fields = sorted(set(table.values()))
    unknown = sorted(target for target in wanted.values() if target and target not in fields)
    if unknown:
        raise ImportRefused(f"Unknown fields in --map: {', '.join(unknown)} (known: {', '.join(fields)})")
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        folded = folded_header(header)
        target = wanted[folded] if folded in wanted else table.get(folded)
        if target and target not in mapping.values():
            mapping[index] = target
    return mapping


def import_form(source: str, consent_basis: str | None, overwrite: bool = False,
                subscriptions: dict[str, SubscriptionStart] | None = None) -> FormDefinition:
    """The form an imported row counts as: an email is all it needs. A consent basis (名刺交換 at an
    exhibition, say) is recorded as the lead's consent, with the source as its version. Like a web form,
    a row fills a known lead's blanks and proposes the rest, unless the import `overwrite`s; `subscriptions`
    start the leads it creates on types unlike their defaults, recorded as made by the import."""
    consent = ConsentPolicy(required=False, purpose=consent_basis, version=source) if consent_basis else None
    return FormDefinition(kind="import", title=f"Import: {source}", required=["email"], consent=consent,
                          may_update=overwrite, subscriptions=subscriptions or {})


def plan_import(data: bytes, source: str, consent_basis: str | None = None, encoding: str | None = None,
                overrides: dict[str, str] | None = None, overwrite: bool = False,
                subscriptions: dict[str, SubscriptionStart] | None = None) -> ImportPlan:
    text, used = decode(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = next(reader, None)
    if not headers:
        raise ImportRefused("The file is empty: the first row must name the columns.")
    mapping = column_mapping(headers, overrides)
    if "email" not in mapping.values():
        raise ImportRefused("No email column: name it メールアドレス or email, or map one with --map '列名:email'.")
    form = import_form(source, consent_basis, overwrite, subscriptions)
    plan = ImportPlan(encoding=used)
    kept: dict[str, int] = {}  # email key -> index in plan.submissions
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue  # the blank lines spreadsheets leave at the end
        plan.rows += 1
        fields = _fields(row, mapping, source, consent_basis)
        try:
            submission = validate_submission(IMPORT_FORM_ID, form, fields)
        except ValidationFailed as invalid:
            plan.rejected.append(Rejected(row_number, [f"{p.field}: {p.message}" for p in invalid.problems]))
            continue
        if submission.email_key in kept:
            plan.duplicates_in_file += 1
            first_row, first = plan.submissions[kept[submission.email_key]]
            # The same person twice in one list: the first row, with blanks filled from the later one.
            merged = {**submission.profile, **first.profile}
            plan.submissions[kept[submission.email_key]] = (first_row, replace(first, profile=merged))
            continue
        kept[submission.email_key] = len(plan.submissions)
        plan.submissions.append((row_number, submission))
    return plan


def _fields(row: list[str], mapping: dict[int, str], source: str, consent_basis: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for index, target in mapping.items():
        value = row[index].strip() if index < len(row) else ""
        if value:
            fields[target] = unicodedata.normalize("NFKC", value) if target in _FOLDED else value
    last, first = fields.pop("last_name", ""), fields.pop("first_name", "")
    if not fields.get("name") and (last or first):
        fields["name"] = f"{last} {first}".strip()  # 姓 名, as a Japanese name is written
    fields["utm_source"] = source
    if consent_basis:
        fields["consent"] = "yes"
    return fields


# Re-running an import within this long is a replay: every row answers as before, nothing is added.
REPLAY_SECONDS = 400 * 24 * 3600
WRITERS = 8


class ImportOutcome(Struct):
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # rows an earlier run of the same import already stored
    failed: list[Rejected] = field(default_factory=list)


def run_import(plan: ImportPlan, source: str, store: LeadStore, now: datetime, event_retention_days: int,
               progress: Callable[[int, int], None] = lambda done, total: None) -> ImportOutcome:
    """Capture every planned row, several at a time. Each row is one idempotent capture (keyed by the
    source and the row's content), so an interrupted import run again ends in the same state."""
    settings = CaptureSettings(duplicate_window_seconds=REPLAY_SECONDS, event_retention_days=event_retention_days)
    request = RequestContext(received_at=now, user_agent=f"nurture import ({source})")
    outcome = ImportOutcome()

    def capture(planned: tuple[int, Submission]) -> tuple[int, CaptureResult | None, str | None]:
        row, submission = planned
        try:
            key = f"import:{source}:{submission.fingerprint}"
            return row, capture_submission(submission, store, request, settings, key), None
        except NurtureError as error:  # the store's refusals; the next run retries the row
            return row, None, str(error)

    with ThreadPoolExecutor(max_workers=WRITERS) as writers:
        for done, (row, result, error) in enumerate(writers.map(capture, plan.submissions), start=1):
            if result is None:
                outcome.failed.append(Rejected(row, [error or "not stored"]))
            elif result.replayed:
                outcome.unchanged += 1
            elif result.created:
                outcome.created += 1
            else:
                outcome.updated += 1
            progress(done, len(plan.submissions))
    return outcome
