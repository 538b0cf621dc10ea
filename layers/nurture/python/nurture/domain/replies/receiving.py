"""What a received reply does: found by the signed address it was sent to, then recorded as a person's reply
(scored, and through the scorer it stops step emails and reaches the owner), as an automatic one (kept, nothing
more), or taken as a request to stop that email's type of mail. A delivery report, or mail to an address
Nurture did not sign, is counted and stored nowhere. Pure: the store and the signer come in."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.config.bundle import NurtureConfig
from nurture.config.sales import SalesConfig
from nurture.config.scoring import ScoringRules
from nurture.domain.activity import Activity
from nurture.domain.clock import expiry, iso
from nurture.domain.errors import LeadGone
from nurture.domain.handoff import ACTIVITIES, handoff_message
from nurture.domain.leads import OPEN_STAGES, LeadRecord
from nurture.domain.preferences.centre import PreferenceSettings, PreferenceStore, opt_out_by_reply
from nurture.domain.replies import AUTOMATIC_REPLY, REPLY
from nurture.domain.replies.address import PREFIX, UnknownReplyAddress
from nurture.domain.replies.reading import Reply, read_reply
from nurture.domain.sales.alerts import AlertJob, alert_jobs
from nurture.domain.sales.verdicts import current_owner
from nurture.domain.tokens import TokenSigner

ReplyOutcome = Literal["recorded", "automatic", "opted_out", "delivery_report", "unknown_address", "duplicate",
                       "lead_gone",
                       # before the message is read: SES's checks failed it, it is too large, or it is not stored
                       "refused_by_ses_checks", "too_large", "gone", "unreadable"]


SES_MESSAGE_ID_DOMAIN = ".amazonses.com"


class ReceivedMail(Struct, frozen=True):
    """What SES's receipt says of a message (its raw bytes are read from where SES stored them)."""

    ses_message_id: str  # also the stored object's name, and the recorded activity's id: redelivery is a no-op
    received_at: datetime
    recipients: tuple[str, ...]  # the envelope's, as SES accepted them: ours only
    sender_authenticated: bool = False  # SES's DMARC verdict passed: the From domain sent it


class SentEmail(Struct, frozen=True):
    """The email a reply answers, as the lead's history recorded its send."""

    message_id: str
    sequence: str | None = None
    step: str | None = None
    campaign: str | None = None
    template: str | None = None


class ReplyStore(PreferenceStore, Protocol):
    def lead_record(self, lead_id: str, activity_limit: int = 50, ledger_limit: int = 1000) -> LeadRecord | None: ...

    def handoff_item(self, lead_id: str, handoff_id: str) -> dict[str, Any] | None: ...

    def sent_email(self, lead_id: str, message_prefix: str) -> SentEmail | None:
        """The lead's sent email whose message id starts with `message_prefix` (None: none is kept)."""
        ...

    def sent_by_ses_id(self, address: str, ses_message_ids: list[str]) -> Answered | None:
        """The email SES sent under one of `ses_message_ids` to the lead with `address` (None: none)."""
        ...

    def record_once(self, lead_id: str, activity: Activity) -> bool:
        """The activity under the lead, once: False when this reply was recorded before; LeadGone when the lead
        was erased."""
        ...


class Answered(Struct, frozen=True):
    """The lead and the email a reply is for, from the address it was sent to."""

    lead_id: str
    email: SentEmail | None  # None: its send is no longer kept (past the event retention)


def answered(mail: ReceivedMail, reply: Reply, signer: TokenSigner, store: ReplyStore,
             reply_domain: str) -> Answered | None:
    """The first of the message's recipients that is a reply address this Nurture signed; failing that, an email
    SES sent to the sender's address that the message says it answers (SES gives every email a Message-ID of
    its own, `<SES message id>@<region>.amazonses.com`). None: neither."""
    suffix = "@" + reply_domain.lower()
    for address in dict.fromkeys([*mail.recipients, *reply.recipients]):
        local = address.lower()
        if not (local.endswith(suffix) and local.startswith(PREFIX)):
            continue
        try:
            lead_id, message_prefix = signer.read_reply_address(address)
        except UnknownReplyAddress:
            continue
        return Answered(lead_id, store.sent_email(lead_id, message_prefix))
    if not mail.sender_authenticated:  # a From line anyone could write names nobody
        return None
    ses_ids = [local for local, _, domain in (found.partition("@") for found in reply.in_reply_to)
               if domain.lower().endswith(SES_MESSAGE_ID_DOMAIN)]
    return store.sent_by_ses_id(reply.sender, ses_ids) if ses_ids and reply.sender else None


class Received(Struct, frozen=True):
    outcome: ReplyOutcome
    lead_id: str | None = None  # whose reply it was, when it is one of ours
    reply: Reply | None = None  # as it was read

    @property
    def tells_owner(self) -> bool:
        """A person's reply, recorded now or before: a retry after the alerts failed to queue queues them again
        (their ids are fixed, so the notifier sends each once)."""
        return self.reply is not None and self.reply.kind == "person" and self.outcome in ("recorded", "duplicate")


def receive_reply(mail: ReceivedMail, raw: bytes, signer: TokenSigner, store: ReplyStore, config: NurtureConfig,
                  settings: PreferenceSettings, reply_domain: str) -> Received:
    """Read `raw` (UnreadableReply when it is not a message) and act on it once."""
    reply = read_reply(raw)
    if reply.kind == "delivery_report":
        return Received("delivery_report")
    found = answered(mail, reply, signer, store, reply_domain)
    if found is None:
        return Received("unknown_address")
    return Received(_act(mail, reply, found, store, config, settings), found.lead_id, reply)


def _act(mail: ReceivedMail, reply: Reply, found: Answered, store: ReplyStore, config: NurtureConfig,
         settings: PreferenceSettings) -> ReplyOutcome:
    email = found.email or SentEmail(message_id="")  # its send no longer kept: the reply stands on its own
    if reply.kind == "opt_out":
        if store.profile(found.lead_id, "email_key") is None:
            return "lead_gone"  # erased: its suppression entry already stands
        changed = opt_out_by_reply(found.lead_id, _email_type(email, config), email.message_id or None, store,
                                   mail.received_at, settings)
        return "opted_out" if changed else "duplicate"
    data = {"message_id": email.message_id, "sequence": email.sequence, "step": email.step,
            "campaign": email.campaign, "template": email.template, "why": reply.why}
    if reply.kind == "person":
        data |= {"excerpt": reply.excerpt, "subject": reply.subject}
    activity = Activity(REPLY if reply.kind == "person" else AUTOMATIC_REPLY, iso(mail.received_at),
                        mail.ses_message_id, expiry(mail.received_at, settings.event_retention_days),
                        {key: value for key, value in data.items() if value not in (None, "")})
    try:
        if not store.record_once(found.lead_id, activity):
            return "duplicate"
    except LeadGone:
        return "lead_gone"
    return "recorded" if reply.kind == "person" else "automatic"


def owner_alerts(lead_id: str, reply_id: str, excerpt: str, store: ReplyStore, sales: SalesConfig,
                 rules: ScoringRules, now: datetime, api_base: str) -> list[AlertJob]:
    """A person's reply from a lead sales already work tells its owner at once (a nurtured lead's reply makes it
    hot, and its handoff tells the owner). `reply_id` makes each reply an alert of its own."""
    record = store.lead_record(lead_id, activity_limit=ACTIVITIES)
    profile = record.profile if record is not None else {}
    if record is None or profile.get("stage") not in OPEN_STAGES or not profile.get("handoff_id"):
        return []
    handoff = store.handoff_item(lead_id, str(profile["handoff_id"]))
    if handoff is None:
        return []
    message = handoff_message({**handoff, "owner": current_owner(handoff, profile)}, record, rules, now, api_base,
                              sales)
    return alert_jobs(message, sales, "reply", occasion=reply_id, excerpt=excerpt)


def _email_type(email: SentEmail, config: NurtureConfig) -> str | None:
    """The subscription type of the email replied to (None: not known, so the request stops everything)."""
    if email.campaign is not None and email.campaign in config.campaigns.campaigns:
        return config.campaigns.campaigns[email.campaign].type
    sequence = config.sequences.sequence(email.sequence) if email.sequence is not None else None
    return sequence.type if sequence is not None else None
