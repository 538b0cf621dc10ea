"""What SES tells us about an email, read from any of the shapes it arrives in.

SES publishes two formats: event publishing records (`eventType`, from a configuration set) and the
older identity notifications (`notificationType`). The envelope around a record (an EventBridge event,
an SNS notification) is taken off in `nurture.queues.ses_events`; this module reads the record. One SES
record can name several recipients (a bounce of two addresses): it becomes one event per recipient,
each with its own idempotency key (SES message id + event type + recipient + time).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct, field

from nurture.config.bots import BotRules
from nurture.domain.activity import Activity
from nurture.domain.bots import bot_data, classify
from nurture.domain.clock import expiry, iso, parse_iso
from nurture.domain.errors import NurtureError
from nurture.domain.text import InvalidEmail, drop_invisible, normalize_email

# SES's names, both formats, to ours.
KINDS = {
    "Send": "send", "Delivery": "delivery", "Bounce": "bounce", "Complaint": "complaint", "Open": "open",
    "Click": "click", "Reject": "reject", "Rendering Failure": "rendering_failure",
    "DeliveryDelay": "delivery_delay", "Subscription": "subscription",
}
# The `detail-type` EventBridge gives each kind of event publishing record (source `aws.ses`), per SES's
# "Monitoring SES events using Amazon EventBridge"; the record itself is the event's `detail`.
DETAIL_TYPES = {
    "Send": "Email Sent", "Delivery": "Email Delivered", "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received", "Reject": "Email Rejected", "Open": "Email Opened",
    "Click": "Email Clicked", "Rendering Failure": "Email Rendering Failed",
    "DeliveryDelay": "Email Delivery Delayed", "Subscription": "Email Subscribed",
}


MAX_TEXT = 2048  # a detail's text kept on an activity (a user agent, a link): far above real ones


class UnreadableSesEvent(NurtureError):
    """Not an SES event in any shape we accept: that record fails alone and ends in the DLQ. The message names
    what is wrong, never a value from the event that could be personal data (an address, a link)."""


class SesEvent(Struct, frozen=True):
    kind: str  # one of KINDS' values
    ses_message_id: str
    recipient: str
    occurred_at: datetime
    tags: dict[str, str] = field(default_factory=dict)  # the sender's message tags: lead, sequence, step, message
    bounce_type: str | None = None  # Permanent, Transient, Undetermined
    bounce_subtype: str | None = None
    complaint_type: str | None = None
    user_agent: str | None = None
    ip_address: str | None = None
    link: str | None = None
    sent_at: datetime | None = None  # when SES accepted the email (its `mail.timestamp`)

    @property
    def key(self) -> str:
        """The same SES event delivered twice has the same key."""
        seed = f"{self.ses_message_id}|{self.kind}|{self.recipient.lower()}|{self.occurred_at.isoformat()}"
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    @property
    def permanent_failure(self) -> bool:
        """An address that must never be mailed again: a permanent bounce or any complaint."""
        return self.kind == "complaint" or (self.kind == "bounce" and self.bounce_type == "Permanent")


def parse_record(record: dict[str, Any]) -> list[SesEvent]:
    name = record.get("eventType") or record.get("notificationType")
    if name not in KINDS:
        raise UnreadableSesEvent(f"not an SES event type: {str(name)[:40]!r}")
    kind = KINDS[str(name)]
    mail = record.get("mail")
    if not isinstance(mail, dict) or not isinstance(mail.get("messageId"), str):
        raise UnreadableSesEvent("an SES event without its mail object")
    detail = record.get(_detail_key(kind, record)) or {}
    if not isinstance(detail, dict):
        raise UnreadableSesEvent(f"the {kind} object is not an object")
    tags = {str(name): str(values[0]) for name, values in (mail.get("tags") or {}).items()
            if isinstance(values, list) and values}
    occurred_at = _time(detail.get("timestamp") or mail.get("timestamp"))

    def text(name: str) -> str | None:  # the detail's own fields, where this kind has them (stored as they read)
        value = detail.get(name)
        return drop_invisible(value)[:MAX_TEXT] if isinstance(value, str) and value else None

    return [SesEvent(kind=kind, ses_message_id=mail["messageId"], recipient=recipient, occurred_at=occurred_at,
                     tags=tags, bounce_type=text("bounceType"), bounce_subtype=text("bounceSubType"),
                     complaint_type=text("complaintFeedbackType"), user_agent=text("userAgent"),
                     ip_address=text("ipAddress"), link=text("link"), sent_at=_sent(mail))
            for recipient in _recipients(kind, detail, mail)]


def _detail_key(kind: str, record: dict[str, Any]) -> str:
    """Where the event's own object sits: `bounce`, `deliveryDelay`, `failure` (rendering), …"""
    names = {"rendering_failure": "failure", "delivery_delay": "deliveryDelay"}
    return names.get(kind, kind)


def _recipients(kind: str, detail: dict[str, Any], mail: dict[str, Any]) -> list[str]:
    listed: list[Any]
    if kind == "bounce":
        listed = [r.get("emailAddress") for r in detail.get("bouncedRecipients") or [] if isinstance(r, dict)]
    elif kind == "complaint":
        listed = [r.get("emailAddress") for r in detail.get("complainedRecipients") or [] if isinstance(r, dict)]
    elif kind == "delivery":
        listed = list(detail.get("recipients") or [])
    elif kind == "delivery_delay":
        listed = [r.get("emailAddress") for r in detail.get("delayedRecipients") or [] if isinstance(r, dict)]
    else:
        listed = list(mail.get("destination") or [])
    recipients = []
    for recipient in listed:
        try:  # as the forms normalize it, so the address finds its lead
            recipients.append(normalize_email(str(recipient)))
        except InvalidEmail as error:
            raise UnreadableSesEvent(f"an SES {kind} event names an unreadable recipient") from error
    if not recipients:
        raise UnreadableSesEvent(f"an SES {kind} event that names no recipient")
    return recipients


def _sent(mail: dict[str, Any]) -> datetime | None:
    try:
        return _time(mail.get("timestamp"))
    except UnreadableSesEvent:
        return None


def _time(value: Any) -> datetime:
    try:
        moment = parse_iso(str(value))
    except ValueError as error:
        raise UnreadableSesEvent("an SES event without a readable time") from error
    if moment.tzinfo is None:
        raise UnreadableSesEvent("an SES event time without a time zone")
    return moment


# --- what an event does to the lead ------------------------------------------------------------------

ACTIVITY_TYPES = {
    "send": "email_accepted", "delivery": "email_delivered", "bounce": "email_bounced",
    "complaint": "email_complained", "open": "email_open", "click": "email_click", "reject": "email_rejected",
    "rendering_failure": "email_rendering_failed", "delivery_delay": "email_delayed",
    "subscription": "email_subscription",
}
# The step's KPI counters (STATS# items) each kind moves.
COUNTERS = {"delivery": "delivered", "open": "opened", "click": "clicked", "bounce": "bounced",
            "complaint": "complained"}


class AddressState(Struct, frozen=True):
    """What the handler needs to know of the recipient before deciding."""

    email_key: str
    lead_id: str | None  # None: no lead (erased, or never ours): only the suppression entry is written
    transient_bounces: int = 0


class EventEffect(Struct, frozen=True):
    """Everything one SES event changes, written at most once (keyed by the event's key)."""

    event: SesEvent
    address: AddressState
    activity: Activity | None
    suppress: str | None  # "bounced" or "complained": the address is never mailed again
    count_transient_bounce: bool
    reset_transient_bounces: bool  # a delivery ends a run of soft bounces
    counter: tuple[str, str, str] | None  # (sequence, step, counter)


def effect_of(event: SesEvent, address: AddressState, retention_days: int, transient_limit: int,
              bots: BotRules) -> EventEffect:
    """A permanent bounce or a complaint suppresses at once; `transient_limit` soft bounces in a row too."""
    transient = event.kind == "bounce" and not event.permanent_failure
    suppress = ("complained" if event.kind == "complaint" else "bounced") if event.permanent_failure else (
        "bounced" if transient and address.transient_bounces + 1 >= transient_limit else None)
    activity = None
    machine = None
    if event.kind in ("open", "click"):
        # The same judges as our own pixel and click links: a scanner's hit scores nothing.
        machine = classify("open" if event.kind == "open" else "click", event.occurred_at, event.sent_at,
                           event.user_agent, event.ip_address, bots)
    if address.lead_id is not None:
        data = {"ses_message_id": event.ses_message_id, "message_id": event.tags.get("message"),
                "sequence": event.tags.get("sequence"), "step": event.tags.get("step"),
                "bounce_type": event.bounce_type, "bounce_subtype": event.bounce_subtype,
                "complaint_type": event.complaint_type, "user_agent": event.user_agent, "url": event.link,
                "source": "ses", **bot_data(machine)}
        activity = Activity(type=ACTIVITY_TYPES[event.kind], occurred_at=iso(event.occurred_at), event_id=event.key,
                            expires_at=expiry(event.occurred_at, retention_days),
                            data={k: v for k, v in data.items() if v not in (None, "")})
    sequence, step = event.tags.get("sequence"), event.tags.get("step")
    name = COUNTERS.get(event.kind) if machine is None else f"{COUNTERS[event.kind]}_bot"  # reported apart
    counter = (sequence, step, name) if sequence and step and name else None
    return EventEffect(event, address, activity, suppress, count_transient_bounce=transient and suppress is None,
                       reset_transient_bounces=event.kind == "delivery" and address.transient_bounces > 0,
                       counter=counter)


class SesEventStore(Protocol):
    def address_state(self, event: SesEvent) -> AddressState: ...

    def record_ses_event(self, effect: EventEffect) -> bool: ...


def apply_events(events: list[SesEvent], store: SesEventStore, retention_days: int, transient_limit: int,
                 bots: BotRules) -> list[EventEffect]:
    """Each event's effect, once: a redelivered event finds its activity written and changes nothing."""
    applied = []
    for event in events:
        effect = effect_of(event, store.address_state(event), retention_days, transient_limit, bots)
        if store.record_ses_event(effect):
            applied.append(effect)
    return applied
