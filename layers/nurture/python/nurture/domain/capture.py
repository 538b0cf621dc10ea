"""Lead capture: a form post becomes a lead (or updates one), an activity event and a consent record.

Anyone can type anyone's address into a form, so a post for a known address fills the lead's blanks but
changes nothing it already has, unless it comes from that lead's own browser (a visitor id already tied
to the lead) or the form allows updates (`may_update`). What it would have changed is kept on the
`form_submit` activity as `proposed`, for sales to see. Consent is always recorded: a withdrawal counts
whoever sends it. A double opt-in form's new lead waits for its person's confirmation (domain/preferences).
"""

from __future__ import annotations

from typing import Any, Protocol

from msgspec import Struct
from msgspec.structs import replace

from nurture.domain.activity import Activity, RequestContext, new_activity
from nurture.domain.clock import epoch_seconds, iso, new_id
from nurture.domain.errors import NurtureError, StoreUnavailable, WriteConflict
from nurture.domain.preferences.double_opt_in import REQUESTED, request_for
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.submissions import Submission, duplicate_key


class CaptureSettings(Struct, frozen=True):
    duplicate_window_seconds: int
    event_retention_days: int
    merge_events: int = 100  # a visitor's most recent anonymous events a form takes along to its lead
    unconfirmed_kept_days: int = 7  # a double opt-in lead never confirmed is removed after this many days


class CaptureResult(Struct, frozen=True):
    """What happened: for logs, imports and tests. The public answer shows only `submission_id`, the same
    for a new and a known address."""

    lead_id: str
    created: bool
    submission_id: str  # the form_submit activity's id
    replayed: bool = False  # a repeat of an earlier submission: its first answer, nothing stored


class LeadLookup(Struct, frozen=True):
    """What the reads tell us: who owns the address and what that lead already holds, and whom the visitor
    id already belongs to."""

    lead_id: str | None
    visitor_lead_id: str | None
    visitor_merged: bool
    visitor_verified: bool = False  # tied by a post that could change the lead (its creation, or a trusted one)
    known: dict[str, Any] | None = None  # the owner's fields a submission may fill (profile fields, email,
    # custom, updated_at)


class SubmissionWrite(Struct, frozen=True):
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
    claim_verified: bool = False  # the tie is as trusted as the post that makes it
    stale_duplicate_of: str | None = None  # a guard naming an erased lead: overwrite it
    seen_updated_at: str | None = None  # a known lead's `updated_at` as read: the update holds only if unchanged


class AlreadySubmitted(NurtureError):
    def __init__(self, result: CaptureResult):
        super().__init__("duplicate submission")
        self.result = result


class LeadStore(Protocol):
    def look_up(self, email_key: str, vid: str | None) -> LeadLookup: ...

    def write_submission(self, write: SubmissionWrite) -> None: ...

    def merge_visitor(self, vid: str, lead_id: str, limit: int) -> int: ...


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
                _merge(store, submission.vid, duplicate.result.lead_id, settings)
            return replace(duplicate.result, replayed=True)
        except WriteConflict:
            backoff(attempt)  # a concurrent request won the race: read again and retry as an update
            continue
        if submission.vid and _needs_merge(write, lookup):
            _merge(store, submission.vid, write.lead_id, settings)
        return write.result
    raise StoreUnavailable("the lead kept changing under concurrent submissions")


def _merge(store: LeadStore, vid: str, lead_id: str, settings: CaptureSettings) -> None:
    """The visitor's history into the lead's; it may race the visitor's own beacons, and it is idempotent. If it
    cannot finish, the form is stored already: the client's retry (a 503) replays it and completes the merge."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            store.merge_visitor(vid, lead_id, settings.merge_events)
        except WriteConflict:
            backoff(attempt)
            continue
        return
    raise StoreUnavailable("the visitor kept changing while its history was merged")


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
    known = lookup.known or {}
    # The lead's own browser, or a form meant to update: what the post says replaces what is known. A browser
    # counts as the lead's own only when a post that could change the lead tied it (its first post, or a
    # trusted one): anyone can tie a fresh browser to a known address by posting it once.
    own_browser = submission.vid is not None and lookup.visitor_lead_id == lead_id and lookup.visitor_verified
    trusted = new_lead or form.may_update or own_browser
    profile_changes, proposed = _changes(submission.profile, known, trusted)
    custom, proposed_custom = _changes(submission.custom, known.get("custom") or {}, trusted)
    if proposed_custom:
        proposed["custom"] = proposed_custom
    # A double opt-in form's new lead waits for its person; a post for a lead still waiting asks again (hourly).
    confirmation = request_for(submission.form_id, None if new_lead else known, now, settings.unconfirmed_kept_days) \
        if form.kind != "import" and (form.double_opt_in or not new_lead) else None
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
            "proposed": proposed,  # what the post would have changed, for a person to judge
            REQUESTED: True if confirmation else None,  # the stream queues the confirmation email from it
        },
    )
    touch = {"form_id": submission.form_id, "page": submission.page, "utm": submission.utm, "at": iso(now)}
    profile: dict[str, Any] = {
        **profile_changes,
        "updated_at": iso(now),
        "last_touch": {k: v for k, v in touch.items() if v},
    }
    if trusted:  # the address as its owner writes it (its case may differ)
        profile["email"] = submission.email
    consent = _consent_record(submission, request, activity)
    # Every statement is recorded; the one mail is sent on changes unless a stranger's "yes" would undo the
    # person's own "no" (a withdrawal is honoured whoever sends it).
    withdrawn = (known.get("consent") or {}).get("granted") is False
    if consent is not None and (trusted or not (withdrawn and consent["granted"] is True)):
        # The profile keeps which consent stands; its wording and where it came from stay on the consent record
        # (a copy would make every profile write dearer).
        profile["consent"] = {k: v for k, v in consent.items() if k not in ("source_ip", "purpose")}
    if confirmation is not None:
        profile["double_opt_in"] = confirmation
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
        if form.subscriptions:  # where the form starts a type unlike its default: as chosen at the form
            via = "import" if form.kind == "import" else "form"
            profile["subscriptions"] = {kind: {"choice": "in" if start == "opted_in" else "not_asked", "at": iso(now),
                                               "via": via, "form_id": submission.form_id}
                                        for kind, start in form.subscriptions.items()}
    return SubmissionWrite(
        lead_id=lead_id,
        new_lead=new_lead,
        email_key=submission.email_key,
        profile=profile,
        custom=custom,
        counters={"form_submissions": 1},
        activity=activity,
        consent=consent,
        duplicate_key=key,
        duplicate_expires_at=epoch_seconds(now) + settings.duplicate_window_seconds,
        result=CaptureResult(lead_id=lead_id, created=new_lead, submission_id=activity.event_id),
        claim_visitor=submission.vid if submission.vid and lookup.visitor_lead_id is None else None,
        now=epoch_seconds(now),
        claim_verified=trusted,
        seen_updated_at=None if new_lead else str(known.get("updated_at") or ""),
    )


def _changes(submitted: dict[str, Any], known: dict[str, Any], trusted: bool) -> tuple[dict[str, Any],
                                                                                      dict[str, Any]]:
    """(applied, proposed): a blank is filled; a value the lead has changes only on a trusted post."""
    applied: dict[str, Any] = {}
    proposed: dict[str, Any] = {}
    for name, value in submitted.items():
        current = known.get(name)
        if current == value:
            continue
        if trusted or current in (None, ""):
            applied[name] = value
        else:
            proposed[name] = value
    return applied, proposed


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
