"""Double opt-in: a lead a `double_opt_in` form creates waits, unmailed, unenrolled and never handed off, until the
person confirms through the signed link of the one email it gets; never confirmed, it is removed, leaving a count.

The pending request lives on the profile (`double_opt_in`: form_id, requested_at, remove_at). Capture writes it with
a `form_submit` activity marked `confirmation_requested`; the table's stream hands that to the sender, which sends
the confirmation at most once per request. The email's link opens a page whose button posts: a mail scanner's GET
confirms nothing. A new post for a pending lead requests the email again, at most once an hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.domain.activity import Activity, RequestContext, new_activity
from nurture.domain.clock import iso, parse_iso
from nurture.domain.errors import StoreUnavailable, WriteConflict
from nurture.domain.messages import LeadMessage, Moment
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.tokens import CONFIRM, TokenSigner, lead_of

RESEND_AFTER = timedelta(hours=1)
COUNTERS = "double_opt_in"  # the step counters of this "sequence", one step per form: sent, confirmed, removed
REQUESTED = "confirmation_requested"  # the form_submit activity's mark: the stream queues the email
CONFIRMED = "subscription_confirmed"  # the activity of a confirmation: scoring enrolls the lead from it
PENDING_FIELDS = "email_key, language, double_opt_in, consent"
State = Literal["pending", "confirmed"]


class DoubleOptInSettings(Struct, frozen=True):
    event_retention_days: int
    kept_days: int


def pending(profile: dict[str, Any]) -> dict[str, Any] | None:
    """The lead's open request, or None: the lead confirmed, or never needed to."""
    request = profile.get("double_opt_in")
    return request if isinstance(request, dict) and request.get("requested_at") else None


def request_for(form_id: str, known: dict[str, Any] | None, now: datetime, kept_days: int) -> dict[str, Any] | None:
    """The request a post writes on the lead: a first one for a lead its form creates (`known` None), again for a
    pending lead whose last email is an hour old or more; None: nothing to send."""
    if known is not None:
        last = pending(known)
        if last is None or now - parse_iso(str(last["requested_at"])) < RESEND_AFTER:
            return None
        form_id = str(last.get("form_id") or form_id)  # the form that asked for it first
    # Removed `kept_days` after the latest request: a person who asked again gets the full time to confirm.
    return {"form_id": form_id, "requested_at": iso(now), "remove_at": iso(now + timedelta(days=kept_days))}


class ConfirmationMessage(LeadMessage, frozen=True, kw_only=True):
    """The send queue's message for one request's confirmation email."""

    kind: Literal["confirmation"] = "confirmation"
    requested_at: Moment


def requested_confirmation(lead_id: str, activity: dict[str, Any]) -> ConfirmationMessage | None:
    """The message a new activity item asks for, if it is a post that requested a confirmation."""
    if activity.get("type") != "form_submit" or activity.get(REQUESTED) is not True:
        return None
    return ConfirmationMessage.of(lead_id=lead_id, requested_at=str(activity["occurred_at"]))


# --- the confirmation page ----------------------------------------------------------------------------------


class Confirmation(Struct, frozen=True):
    """What a confirmation writes, in one transaction: the request closed and the consent confirmed on the profile,
    its consent record marked too, the activity, and the form's counter."""

    lead_id: str
    form_id: str
    consent: dict[str, Any] | None  # the profile's consent as read: its history item gains confirmed_at
    activity: Activity
    source_ip: str | None


class ConfirmationStore(Protocol):
    def profile(self, lead_id: str, projection: str | None = None) -> dict[str, Any] | None: ...

    def confirm_subscription(self, confirmation: Confirmation) -> bool:
        """False when the lead has no open request any more (confirmed or removed meanwhile)."""
        ...


class ConfirmationView(Struct, frozen=True):
    language: str
    state: State


def confirmation_state(token: str, signer: TokenSigner, store: ConfirmationStore) -> ConfirmationView | None:
    """What the page shows (None: the lead is gone: removed unconfirmed, or erased). Reads only."""
    profile = store.profile(lead_of(signer.verify(token, CONFIRM)), PENDING_FIELDS)
    if profile is None or "email_key" not in profile:
        return None
    return ConfirmationView("en" if profile.get("language") == "en" else "ja",
                            "pending" if pending(profile) else "confirmed")


def confirm(token: str, signer: TokenSigner, store: ConfirmationStore, request: RequestContext,
            settings: DoubleOptInSettings) -> ConfirmationView | None:
    """The page's button: the lead is confirmed once (a second post changes nothing). None: the lead is gone."""
    lead_id = lead_of(signer.verify(token, CONFIRM))
    for attempt in range(MAX_ATTEMPTS):
        profile = store.profile(lead_id, PENDING_FIELDS)
        if profile is None or "email_key" not in profile:
            return None
        language = "en" if profile.get("language") == "en" else "ja"
        open_request = pending(profile)
        if open_request is None:
            return ConfirmationView(language, "confirmed")
        activity = new_activity(CONFIRMED, request.received_at, settings.event_retention_days,
                                {"form_id": open_request.get("form_id"),
                                 "requested_at": open_request.get("requested_at")})
        consent = profile.get("consent") if isinstance(profile.get("consent"), dict) else None
        try:
            if store.confirm_subscription(Confirmation(lead_id, str(open_request.get("form_id") or "unknown"),
                                                       consent, activity, request.source_ip)):
                return ConfirmationView(language, "confirmed")
        except WriteConflict:
            backoff(attempt)  # the scorer or a new post wrote the lead meanwhile: read it again
            continue
        return confirmation_state(token, signer, store)  # confirmed or removed at this very moment
    raise StoreUnavailable("the lead kept changing while it was confirmed")


# --- removal ------------------------------------------------------------------------------------------------

MAX_REMOVALS = 100  # per tick: a backlog drains over a few ticks


class ExpiredRequest(Struct, frozen=True):
    lead_id: str
    due_sk: str


class RemovalStore(Protocol):
    def expired_unconfirmed(self, until: str, limit: int) -> list[ExpiredRequest]: ...

    def remove_unconfirmed(self, expired: ExpiredRequest) -> bool:
        """Everything of the lead, if it is still unconfirmed and its time is still the one read; its form's
        `removed` counter moves in the same transaction. Finishes a removal an earlier tick left half-way."""
        ...


def remove_expired(store: RemovalStore, now: datetime, limit: int = MAX_REMOVALS) -> int:
    """Remove the leads whose confirmation time ran out; how many went."""
    return sum(store.remove_unconfirmed(expired) for expired in store.expired_unconfirmed(iso(now), limit))
