"""Website beacons and email open/click hits become activity events."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct, field

from nurture.config.bots import BotRules
from nurture.domain.activity import Activity, RequestContext, batch_of, new_activity
from nurture.domain.bots import bot_data, classify
from nurture.domain.clock import epoch_seconds, iso
from nurture.domain.errors import (
    LeadGone,
    NurtureError,
    StoreUnavailable,
    WriteConflict,
)
from nurture.domain.links import redirect_target
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.tokens import CLICK, OPEN, ExpiredToken, TokenSigner, lead_of

if TYPE_CHECKING:
    from nurture.domain.beacons import Beacon


class TrackingSettings(Struct, frozen=True):
    event_retention_days: int
    max_events: int
    bots: BotRules = field(default_factory=BotRules)
    link_hosts: frozenset[str] = frozenset()  # where a click may lead
    visitor_events_per_minute: int = 60  # stored from one visitor id; beyond it, dropped


class Quota(Struct, frozen=True):
    """At most `limit` events stored from one visitor id in one minute (`window`); the store counts them in
    the same transaction that stores them, and refuses a batch that would go beyond (OverQuota)."""

    vid: str
    window: str  # the minute, as YYYY-MM-DDTHH:MM
    limit: int
    expires_at: int  # the count's own TTL


class OverQuota(NurtureError):
    """The visitor already stored its share of events this minute: these are dropped (still a 204)."""


class VisitorIdentified(NurtureError):
    """The visitor id belongs to a lead: its activity goes to the lead's history instead."""

    def __init__(self, lead_id: str):
        super().__init__("visitor identified")
        self.lead_id = lead_id


class VisitorErased(NurtureError):
    """The visitor id belonged to a lead that was erased: its hits are dropped."""


class VisitorMoved(NurtureError):
    """The browser no longer belongs to the lead a read said it did: look again, the careful way."""


class ActivityStore(Protocol):
    def visitor_lead(self, vid: str) -> str | None:
        """The lead the browser belongs to, by an eventually consistent read (None: anonymous, erased or unsure)."""
        ...

    def record_visitor_activity(self, vid: str, activities: list[Activity], quota: Quota) -> None: ...

    def record_browser_activity(self, lead_id: str, activities: list[Activity], quota: Quota) -> None:
        """The events on the lead, on condition that the browser (`quota.vid`) still belongs to it (VisitorMoved)."""
        ...

    def record_lead_activity(self, lead_id: str, activities: list[Activity], quota: Quota | None = None) -> None: ...

    def count_person_click(self, lead_id: str, message_id: str, counter: str) -> bool:
        """Count a person's first click on the message in an A/B variant's counter; False: counted before."""
        ...


class BeaconsRecorded(Struct, frozen=True):
    stored: int
    dropped: int  # over a visitor's quota, or from the browser of an erased lead


def record_beacons(
    beacons: list[Beacon], store: ActivityStore, request: RequestContext, settings: TrackingSettings
) -> BeaconsRecorded:
    """Store the beacons' events under their visitor or its lead, each visitor within its quota a minute."""
    by_visitor: dict[str, list[Activity]] = {}
    for offset, beacon in enumerate(beacons):
        activity = new_activity(beacon.type, request.received_at, settings.event_retention_days,
                                beacon.activity_data(), offset)
        by_visitor.setdefault(beacon.vid, []).append(activity)
    window = iso(request.received_at)[:16]
    stored = 0
    for vid, activities in by_visitor.items():
        quota = Quota(vid, window, settings.visitor_events_per_minute, epoch_seconds(request.received_at) + 120)
        if len(activities) > quota.limit:
            continue  # more than a minute's share in one request
        # A request's events are one item: one write, one stream record, scored together.
        item = [batch_of(activities)] if len(activities) > 1 else activities
        stored += len(activities) if _record_visitor(store, vid, item, quota) else 0
    return BeaconsRecorded(stored, len(beacons) - stored)


def _record_visitor(store: ActivityStore, vid: str, activities: list[Activity], quota: Quota) -> bool:
    lead_id = store.visitor_lead(vid)
    if lead_id is not None:
        # Straight onto the lead, on condition that the browser is still its: the anonymous transaction, which
        # would fail and name the lead, is not paid for. A stale read falls through to it.
        with contextlib.suppress(VisitorMoved):
            return written(partial(store.record_browser_activity, lead_id, activities, quota))
    for attempt in range(MAX_ATTEMPTS):
        try:
            store.record_visitor_activity(vid, activities, quota)
        except VisitorIdentified as identified:
            return written(partial(store.record_lead_activity, identified.lead_id, activities, quota))
        except (VisitorErased, OverQuota):
            return False  # a forgotten browser is not tracked again; a flood is counted and dropped
        except WriteConflict:
            backoff(attempt)  # hits of one visitor arriving at once contend for its identity item
            continue
        return True
    raise StoreUnavailable("the visitor's history kept changing under concurrent hits")


def written(write: Callable[[], None]) -> bool:
    """Events written on a lead, retried while other writes race them and once more after the client's own
    retries gave up (a burst of throttling: a pixel's or a link's hit is not sent again); False when the lead is
    gone (an erased lead's old links and browser write nothing) or its browser is over its quota."""
    unavailable = 0
    for attempt in range(MAX_ATTEMPTS):
        try:
            write()
        except (LeadGone, OverQuota):
            return False
        except WriteConflict:
            backoff(attempt)  # the lead's profile was being written at the same moment
            continue
        except StoreUnavailable:
            unavailable += 1
            if unavailable > 1:
                raise
            # The same events again: written already, they are rewritten as they were (no new stream record).
            backoff(attempt)
            continue
        return True
    raise StoreUnavailable("the lead kept changing under concurrent hits")


class HitOutcome(Struct, frozen=True):
    """What an email open or click came to."""

    bot: str | None = None  # why it was a machine's (None: a person's)
    dropped: str | None = None  # why nothing was stored: expired, erased, unavailable (None: recorded)
    url: str | None = None  # where a click leads


def record_email_open(
    token: str, signer: TokenSigner, store: ActivityStore, request: RequestContext, settings: TrackingSettings
) -> HitOutcome:
    """Record the open of a genuine, unexpired token of a lead that exists."""
    claims = signer.verify(token, OPEN, request.received_at)
    bot = classify("open", request.received_at, sent_at(claims), request.user_agent, request.source_ip,
                   settings.bots)
    activity = new_activity("email_open", request.received_at, settings.event_retention_days,
                            {"message_id": claims.get("m"), "user_agent": request.user_agent, **bot_data(bot)})
    return HitOutcome(bot, None if written(partial(store.record_lead_activity, lead_of(claims), [activity]))
                      else "erased")


def record_email_click(
    token: str, signer: TokenSigner, store: ActivityStore, request: RequestContext, settings: TrackingSettings
) -> HitOutcome:
    """Record the click and return where to send the person: only where a template's author linked to,
    on a host the config allows. InvalidToken: no redirect at all."""
    try:
        claims = signer.verify(token, CLICK, request.received_at)
    except ExpiredToken as expired:
        return HitOutcome(dropped="expired", url=redirect_target(expired.claims.get("u"), settings.link_hosts))
    url = redirect_target(claims.get("u"), settings.link_hosts)
    link = claims.get("t")
    bot = classify("click", request.received_at, sent_at(claims), request.user_agent, request.source_ip,
                   settings.bots, link=link if isinstance(link, str) else None)
    activity = new_activity("email_click", request.received_at, settings.event_retention_days,
                            {"message_id": claims.get("m"), "url": url, "link": link,
                             "user_agent": request.user_agent, **bot_data(bot)})
    try:
        recorded = written(partial(store.record_lead_activity, lead_of(claims), [activity]))
        counter, message_id = claims.get("c"), claims.get("m")
        if recorded and bot is None and isinstance(counter, str) and isinstance(message_id, str):
            store.count_person_click(lead_of(claims), message_id, counter)  # what an A/B test is judged on
    except StoreUnavailable:
        # The person still gets where the genuine link points; only the hit is lost (and logged).
        return HitOutcome(bot, "unavailable", url)
    return HitOutcome(bot, None if recorded else "erased", url)


def sent_at(claims: dict[str, Any]) -> datetime | None:
    sent = claims.get("s")
    return datetime.fromtimestamp(sent, UTC) if isinstance(sent, int) and not isinstance(sent, bool) else None


