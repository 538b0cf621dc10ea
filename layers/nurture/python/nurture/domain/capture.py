"""Lead capture: a form post becomes a lead (or updates one), an activity event and a consent record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from nurture.domain.activity import Activity, RequestContext, new_activity
from nurture.domain.clock import epoch_seconds, iso, new_id
from nurture.domain.errors import NurtureError, StoreUnavailable, WriteConflict
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.submissions import Submission, duplicate_key


@dataclass(frozen=True)
class CaptureSettings:
    duplicate_window_seconds: int
    event_retention_days: int


@dataclass(frozen=True)
class CaptureResult:
    lead_id: str
    created: bool
    replayed: bool = False  # a repeat of an earlier submission: its first answer, nothing stored


@dataclass(frozen=True)
class LeadLookup:
    """What one read tells us: who owns the address, and whom the visitor id already belongs to."""

    lead_id: str | None
    visitor_lead_id: str | None
    visitor_merged: bool


@dataclass(frozen=True)
class SubmissionWrite:
    """Everything one submission stores, written in a single transaction."""

    lead_id: str
    new_lead: bool
    email_key: str
    profile: dict[str, Any]
    custom: dict[str, Any]
    counters: dict[str, int]
    activity: Activity
    consent: dict[str, Any] | None
    duplicate_key: str
    duplicate_expires_at: int
    result: CaptureResult
    claim_visitor: str | None
    now: int
    stale_duplicate_of: str | None = None  # a guard naming an erased lead: overwrite it


class AlreadySubmitted(NurtureError):
    def __init__(self, result: CaptureResult):
        super().__init__("duplicate submission")
        self.result = result


class LeadStore(Protocol):
    def look_up(self, email_key: str, vid: str | None) -> LeadLookup: ...

    def write_submission(self, write: SubmissionWrite) -> None: ...

    def merge_visitor(self, vid: str, lead_id: str) -> int: ...


def capture_submission(
    submission: Submission,
    store: LeadStore,
    request: RequestContext,
    settings: CaptureSettings,
    idempotency_key: str | None = None,
) -> CaptureResult:
    """Create or update the lead; a double submit returns the first answer and stores nothing new."""
    key = duplicate_key(submission, idempotency_key)
    stale: str | None = None
    for attempt in range(MAX_ATTEMPTS):
        lookup = store.look_up(submission.email_key, submission.vid)
        write = replace(_plan(submission, lookup, request, settings, key), stale_duplicate_of=stale)
        try:
            store.write_submission(write)
        except AlreadySubmitted as duplicate:
            if lookup.lead_id != duplicate.result.lead_id:
                # Who owns the address now, not before the write: a double click on a new address loses
                # the race to the first click, whose lead did not exist when this request looked.
                lookup = store.look_up(submission.email_key, submission.vid)
            if lookup.lead_id != duplicate.result.lead_id:
                # The first answer names a lead that no longer owns the address (erased since):
                # this is a new submission, not a duplicate.
                stale = duplicate.result.lead_id
                continue
            # A retry after a merge that failed half-way still completes the merge.
            if submission.vid and lookup.visitor_lead_id == duplicate.result.lead_id and not lookup.visitor_merged:
                store.merge_visitor(submission.vid, duplicate.result.lead_id)
            return replace(duplicate.result, replayed=True)
        except WriteConflict:
            backoff(attempt)  # a concurrent request won the race: read again and retry as an update
            continue
        if submission.vid and _needs_merge(write, lookup):
            store.merge_visitor(submission.vid, write.lead_id)
        return write.result
    raise StoreUnavailable("the lead kept changing under concurrent submissions")


def _needs_merge(write: SubmissionWrite, lookup: LeadLookup) -> bool:
    # A claim just made, or an earlier merge of this lead's visitor that did not finish.
    return write.claim_visitor is not None or (lookup.visitor_lead_id == write.lead_id and not lookup.visitor_merged)


def _plan(
    submission: Submission,
    lookup: LeadLookup,
    request: RequestContext,
    settings: CaptureSettings,
    key: str,
) -> SubmissionWrite:
    now = request.received_at
    new_lead = lookup.lead_id is None
    lead_id = lookup.lead_id or new_id()
    form = submission.form
    activity = new_activity(
        "form_submit",
        now,
        settings.event_retention_days,
        {
            "lead_id": lead_id,
            "form_id": submission.form_id,
            "form_kind": form.kind,
            "asset": form.asset,
            "page": submission.page,
            "utm": submission.utm,
            "fields": submission.custom,
            "vid": submission.vid,
        },
    )
    touch = {"form_id": submission.form_id, "page": submission.page, "utm": submission.utm, "at": iso(now)}
    profile: dict[str, Any] = {
        **submission.profile,
        "email": submission.email,
        "updated_at": iso(now),
        "last_touch": {k: v for k, v in touch.items() if v},
    }
    if form.kind != "import":  # an imported list is the marketer's doing, not the lead's activity
        profile["last_activity_at"] = iso(now)
    consent = _consent_record(submission, request, activity)
    if consent is not None:
        profile["consent"] = {k: v for k, v in consent.items() if k != "source_ip"}
    if new_lead:
        profile |= {
            "lead_id": lead_id,
            "email_key": submission.email_key,
            "language": form.language,
            "status": "active",
            "stage": "nurturing",
            "created_at": iso(now),
            "first_touch": profile["last_touch"],
        }
    return SubmissionWrite(
        lead_id=lead_id,
        new_lead=new_lead,
        email_key=submission.email_key,
        profile=profile,
        custom=submission.custom,
        counters={"form_submissions": 1},
        activity=activity,
        consent=consent,
        duplicate_key=key,
        duplicate_expires_at=epoch_seconds(now) + settings.duplicate_window_seconds,
        result=CaptureResult(lead_id=lead_id, created=new_lead),
        claim_visitor=submission.vid if submission.vid and lookup.visitor_lead_id is None else None,
        now=epoch_seconds(now),
    )


def _consent_record(submission: Submission, request: RequestContext, activity: Activity) -> dict[str, Any] | None:
    policy = submission.form.consent
    if policy is None or submission.consent is None:
        return None
    return {
        "granted": submission.consent,
        "purpose": policy.purpose,
        "version": policy.version,
        "form_id": submission.form_id,
        "recorded_at": activity.occurred_at,
        "event_id": activity.event_id,
        "source_ip": request.source_ip,
    }
