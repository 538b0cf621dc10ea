"""The preference centre: what an email's unsubscribe link shows (GET changes nothing: mail scanners follow
links) and what its posts change: RFC 8058's one-click leaves the email's own type, the page's form sets
each type, its second button leaves everything."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct

from nurture.config.subscriptions import SubscriptionsConfig
from nurture.domain.activity import Activity, RequestContext, new_activity
from nurture.domain.errors import (
    FieldProblem,
    LeadNotFound,
    LeadUnsubscribed,
    StoreUnavailable,
    ValidationFailed,
    WriteConflict,
)
from nurture.domain.preferences.choices import subscribed
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.tokens import UNSUBSCRIBE, TokenSigner, lead_of

CHOICE_FIELDS = "email_key, subscriptions, status, language"


class PreferenceSettings(Struct, frozen=True):
    event_retention_days: int
    subscriptions: SubscriptionsConfig


class PreferenceStore(Protocol):
    def profile(self, lead_id: str, projection: str | None = None) -> dict[str, Any] | None: ...

    def unsubscribe(self, lead_id: str, activity: Activity) -> bool: ...

    def set_choices(self, lead_id: str, entries: dict[str, dict[str, str]], map_exists: bool,
                    activity: Activity, record: dict[str, Any]) -> None:
        """Write `entries` into the profile's subscriptions map with the activity and the consent record, in one
        transaction; WriteConflict if the profile changed meanwhile (its map made, the lead unsubscribed or
        erased)."""
        ...


class Preferences(Struct, frozen=True):
    """What the page shows: the lead's language, whether it left everything, and each type it receives."""

    language: str
    unsubscribed: bool
    receives: dict[str, bool]
    email_type: str | None  # the type of the email whose link this is (None: a link from before types)


class Unsubscribed(Struct, frozen=True):
    changed: bool  # False: it already was
    subscription_type: str | None  # the one type left; None: everything


def preferences(token: str, signer: TokenSigner, store: PreferenceStore,
                settings: PreferenceSettings) -> Preferences | None:
    """The lead's current choices (None: the lead is erased). Reads only."""
    claims = signer.verify(token, UNSUBSCRIBE)
    profile = store.profile(lead_of(claims), CHOICE_FIELDS)
    if profile is None or "email_key" not in profile:
        return None
    return Preferences(language="en" if profile.get("language") == "en" else "ja",
                       unsubscribed=profile.get("status") == "unsubscribed",
                       receives={kind: subscribed(profile, kind, settings.subscriptions)
                                 for kind in settings.subscriptions.types},
                       email_type=_email_type(claims, settings))


def unsubscribe(token: str, signer: TokenSigner, store: PreferenceStore, request: RequestContext,
                settings: PreferenceSettings, everything: bool) -> Unsubscribed:
    """At once: from the email's own subscription type (one-click), or from `everything` (the address
    suppressed; also what a link from before types, which names none, does)."""
    claims = signer.verify(token, UNSUBSCRIBE)
    kind = None if everything else _email_type(claims, settings)
    if kind is not None:
        activity = new_activity("opt_out", request.received_at, settings.event_retention_days,
                                {"message_id": claims.get("m"), "subscription_type": kind})
        return Unsubscribed(_choose(store, lead_of(claims), {kind: False}, "one_click", activity, settings), kind)
    activity = new_activity("unsubscribe", request.received_at, settings.event_retention_days,
                            {"message_id": claims.get("m")})
    return Unsubscribed(_leave_everything(store, lead_of(claims), activity), None)


def opt_out_by_reply(lead_id: str, kind: str | None, message_id: str | None, store: PreferenceStore, at: datetime,
                     settings: PreferenceSettings) -> bool:
    """A reply asking to stop (「配信停止」): as the one-click of the email replied to, from its type; from
    everything when its type is not known (the request is honoured, not guessed at). False: nothing changed."""
    if kind is not None and kind in settings.subscriptions.types:
        activity = new_activity("opt_out", at, settings.event_retention_days,
                                {"message_id": message_id, "subscription_type": kind, "via": "reply"})
        return _choose(store, lead_id, {kind: False}, "reply", activity, settings)
    activity = new_activity("unsubscribe", at, settings.event_retention_days,
                            {"message_id": message_id, "via": "reply"})
    return _leave_everything(store, lead_id, activity)


def _leave_everything(store: PreferenceStore, lead_id: str, activity: Activity) -> bool:
    for attempt in range(MAX_ATTEMPTS):
        try:
            return store.unsubscribe(lead_id, activity)
        except WriteConflict:
            backoff(attempt)  # the scorer or an SES event was writing the lead: an opt-out is never lost to it
    # A 503: the mailbox provider's one-click POST, or the person's button, tries again; a reply is redelivered.
    raise StoreUnavailable("the lead kept changing while it was unsubscribed")


def change_preferences(token: str, signer: TokenSigner, store: PreferenceStore, request: RequestContext,
                       settings: PreferenceSettings, receive: set[str]) -> bool:
    """The page's form: the lead receives exactly the types in `receive` (unknown ones are ignored). False:
    nothing changed, or the lead left everything or is erased (the page says so)."""
    claims = signer.verify(token, UNSUBSCRIBE)
    wanted = {kind: kind in receive for kind in settings.subscriptions.types}
    activity = new_activity("preferences", request.received_at, settings.event_retention_days,
                            {"message_id": claims.get("m")})
    return _choose(store, lead_of(claims), wanted, "preference_page", activity, settings)


def change_for_lead(lead_id: str, wanted: dict[str, bool], store: PreferenceStore, request: RequestContext,
                    settings: PreferenceSettings) -> bool:
    """Sales (the sales API) sets the types named in `wanted`, as the person asked them to; the others stay. False:
    nothing changed. A lead that left everything is subscribed again only by the person, at a form."""
    unknown = sorted(set(wanted) - set(settings.subscriptions.types))
    if unknown:
        known = ", ".join(settings.subscriptions.types)
        raise ValidationFailed("Unknown subscription types.", [
            FieldProblem(f"receive.{kind}", "unknown_type", f"is not a subscription type ({known})")
            for kind in unknown])
    profile = store.profile(lead_id, CHOICE_FIELDS)
    if profile is None or "email_key" not in profile:
        raise LeadNotFound(f"There is no lead '{lead_id}'.")
    if profile.get("status") == "unsubscribed":
        raise LeadUnsubscribed("The lead unsubscribed from every email: only the person can sign up again.")
    activity = new_activity("preferences", request.received_at, settings.event_retention_days, {})
    return _choose(store, lead_id, wanted, "sales_api", activity, settings)


def _choose(store: PreferenceStore, lead_id: str, wanted: dict[str, bool], via: str, activity: Activity,
            settings: PreferenceSettings) -> bool:
    for attempt in range(MAX_ATTEMPTS):
        profile = store.profile(lead_id, CHOICE_FIELDS)
        if profile is None or "email_key" not in profile or profile.get("status") == "unsubscribed":
            return False
        entries = {kind: {"choice": "in" if receives else "out", "at": activity.occurred_at, "via": via}
                   for kind, receives in wanted.items()
                   if subscribed(profile, kind, settings.subscriptions) != receives}
        if not entries:
            return False
        changed = {"joined": sorted(k for k, e in entries.items() if e["choice"] == "in"),
                   "left": sorted(k for k, e in entries.items() if e["choice"] == "out")}
        # The consent history keeps every choice beside the form consents: when, how, what was left and joined.
        record = {"kind": "subscriptions", "recorded_at": activity.occurred_at, "event_id": activity.event_id,
                  "via": via, **changed}
        try:
            store.set_choices(lead_id, entries, "subscriptions" in profile, Activity(
                activity.type, activity.occurred_at, activity.event_id, activity.expires_at,
                {**activity.data, **changed}), record)
            return True
        except WriteConflict:
            backoff(attempt)  # the scorer, or another choice, wrote the lead meanwhile: read it again
    raise StoreUnavailable("the lead kept changing while its choices were saved")


def _email_type(claims: dict[str, Any], settings: PreferenceSettings) -> str | None:
    kind = claims.get("t")
    return kind if isinstance(kind, str) and kind in settings.subscriptions.types else None
