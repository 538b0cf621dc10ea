"""The sender: the last look at a lead before a step email goes out, the email, and its record.

Pure: the lead as it is now (re-read right before sending), the dispatcher's message, the config.
A lead that unsubscribed a second ago, was suppressed, gave no consent or met a stop rule gets
nothing; a message about a step the lead is no longer on (a stale or duplicate message) is dropped.

At most once: a marker item is written before SES is called, and the send is recorded (the lead
advanced, the activity, the step's counter, the marker closed) in one transaction that only one
worker can win. A throttled send removes its marker and returns to the queue; a permanent error is
recorded on the lead and never retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol

from msgspec import Struct
from msgspec.structs import replace

from nurture.config.sequences import SenderIdentity, SequencesConfig, Step
from nurture.config.subscriptions import SubscriptionsConfig
from nurture.config.templates import EmailTemplate
from nurture.domain.activity import Activity
from nurture.domain.clock import epoch_seconds, expiry, iso, new_id, parse_iso
from nurture.domain.dispatch import StepMessage
from nurture.domain.emails import Links, RenderedEmail, RenderFailed, render_email, render_transactional
from nurture.domain.errors import NurtureError, SendDeferred, SendRejected, StoreUnavailable, WriteConflict
from nurture.domain.leads import mail_refusal
from nurture.domain.preferences.choices import subscribed
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sequencing import (
    SequenceState,
    advance,
    current_step,
    follow_up,
    is_follow_up_check,
    lead_facts,
    note_sent,
    retime,
    scheduler_for,
    skip,
    step_applies,
    stop_reason,
)
from nurture.domain.tokens import TokenSigner

if TYPE_CHECKING:
    from nurture.config import NurtureConfig

Action = Literal["send", "skip", "stop", "wait", "drop", "follow_up"]


class SendDecision(Struct, frozen=True):
    action: Action
    reason: str
    state: SequenceState | None = None  # the state to store (for send: the state it is sent from)
    step: Step | None = None


def decide(profile: dict[str, Any], suppressed: bool, message: StepMessage, config: SequencesConfig,
           subscriptions: SubscriptionsConfig, now: datetime) -> SendDecision:
    state = SequenceState.from_item(profile.get("sequence"))
    if state is None or state.sequence != message.sequence or state.step != message.step:
        return SendDecision("drop", "the lead is no longer on this step")
    facts = lead_facts(profile, str(profile.get("rank", "C")), str(profile.get("stage", "nurturing")), now)
    if state.stopped and not is_follow_up_check(state):
        return SendDecision("drop", f"the sequence stopped: {state.stopped}")
    sequence = config.sequence(state.sequence)
    step = current_step(state, config)
    if sequence is None or (step is None and not is_follow_up_check(state)):
        # Stopped, not dropped: a dropped message leaves the due entry to come round again.
        return SendDecision("stop", "removed_from_config", replace(state, stopped="removed_from_config",
                                                                  next_send_at=None))
    # The same gate for a step and for a follow-up check: a lead that may get no mail is not re-engaged either.
    reason = stop_reason(sequence, facts) or ("suppressed" if suppressed else None) or mail_refusal(profile) or \
        (None if subscribed(profile, sequence.type, subscriptions) else "opted_out_of_type")
    if reason is not None:
        return SendDecision("stop", reason, replace(state, stopped=reason, next_send_at=None))
    if is_follow_up_check(state):
        return SendDecision("follow_up", "the finished sequence's dormancy or sunset check",
                            follow_up(state, config, facts, now))
    assert step is not None
    if not step_applies(step, state):
        return SendDecision("skip", f"condition {step.condition} does not hold", skip(state, config, facts, now),
                            step)
    if step.template in state.sent_templates:
        return SendDecision("skip", "the lead already received this email", skip(state, config, facts, now), step)
    # A message that waited in the queue (throttling, an outage) may now be outside the window or over
    # the cap: it waits for the next moment that is neither.
    allowed = scheduler_for(config)(now, state.sent_at, facts.timezone)
    if allowed > now:
        return SendDecision("wait", "outside the send window or over the cap",
                            replace(state, next_send_at=iso(allowed)), step)
    return SendDecision("send", "due", state, step)


class Attachment(Struct, frozen=True):
    filename: str
    content_type: str  # maintype/subtype
    body: bytes


def to_mime(email: RenderedEmail, sender: str, recipient: str, now: datetime, domain: str,
            reply_to: str | None = None, attachments: Sequence[Attachment] = ()) -> bytes:
    """A multipart/alternative message with the one-click unsubscribe headers (RFC 8058); with attachments, the
    alternatives and the files in a multipart/mixed."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text, charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.body, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return bytes(message)


# --- the send itself ------------------------------------------------------------------------------

IN_FLIGHT = timedelta(minutes=5)  # a marker younger than this may belong to a sender still at work
# SES reports a message it accepted within seconds; a marker left in doubt is resolved by that report only
# after this long, so a late report does not make it go out twice (the send queue's redeliveries, three
# minutes apart, reach this before their fifth).
SES_REPORT_WAIT = timedelta(minutes=10)
Outcome = Literal["sent", "failed", "skipped", "stopped", "waiting", "reengaged", "sunset", "rechecked"]


class AlreadyRecorded(NurtureError):
    """Another delivery of the same message recorded this send first."""


class Mailer(Protocol):
    def send(self, raw: bytes, recipient: str, tags: dict[str, str]) -> str: ...


class SendRecord(Struct, frozen=True):
    """What the store writes in one transaction after a send, a failure, a skip or a stop."""

    lead_id: str
    sequence: str
    step_id: str | None  # the step whose counter moves (None: no counter)
    outcome: Outcome
    state: SequenceState | None  # None: the lead's sequence state stays as it is
    reschedule: bool  # the due entry follows the state's next_send_at
    activity: Activity | None = None
    message_id: str | None = None  # the marker this closes; only one record can close it
    error: str | None = None
    ses_message_id: str | None = None  # SES's id of the message (its Message-ID), kept on the marker for replies
    counter: str | None = None  # the step counter moved, when not the outcome itself (a campaign's skip reason)
    variant_step: str | None = None  # an A/B test's variant, whose counter moves too


class SenderStore(Protocol):
    def sending_paused(self) -> bool: ...

    def ses_accepted(self, lead_id: str, message_id: str, since: str) -> bool: ...

    def take_over_send(self, lead_id: str, message_id: str, stale_attempt: str, attempt: str, at: str) -> bool: ...

    def lead_for_sending(self, lead_id: str) -> tuple[dict[str, Any], bool] | None: ...

    def begin_send(self, lead_id: str, message_id: str, at: str, expires_at: int,
                   attempt: str) -> dict[str, Any] | None: ...

    def abandon_send(self, lead_id: str, message_id: str) -> None: ...

    def record_send(self, record: SendRecord, expected_version: int) -> None: ...


class Composer(Struct, frozen=True):
    """Renders a step email into the MIME message SES sends."""

    templates: dict[str, EmailTemplate]
    signer: TokenSigner
    api_base: str
    sender: str  # "Name <address>"
    open_pixel: bool = True
    custom_fields: frozenset[str] = frozenset()  # form fields templates may show
    identity: SenderIdentity | None = None  # who sends, for the legal footer
    reply_domain: str = ""  # where replies are received: each email's Reply-To is signed for it ("": none)

    @classmethod
    def for_config(cls, config: NurtureConfig, signer: TokenSigner, api_base: str, sender_address: str,
                   reply_domain: str = "") -> Composer:
        """The sender's composer for one config version: its templates, sender name and pixel setting."""
        sender = formataddr((config.sequences.sender_name, sender_address))  # encodes a Japanese name
        return cls(config.templates, signer, api_base, sender, config.sequences.open_pixel,
                   config.rendered_custom_fields, config.sequences.sender, reply_domain)

    def compose(self, lead_id: str, profile: dict[str, Any], template: str | EmailTemplate, message_id: str,
                now: datetime, *, subscription_type: str, counter: str | None = None) -> bytes:
        """`template`: a template's name, or a template made for one campaign (its own subjects);
        `subscription_type`: the email's, which its one-click unsubscribe leaves; `counter`: the A/B variant
        whose people's clicks its links count."""
        links = Links(self.api_base, self.signer, lead_id, message_id, epoch_seconds(now), counter,
                      subscription_type)
        chosen = self.templates[template] if isinstance(template, str) else template
        email = render_email(chosen, str(profile.get("language") or "ja"), profile, links, self.open_pixel,
                             self.custom_fields, self.identity)
        reply_to = self.signer.reply_address(lead_id, message_id, self.reply_domain) if self.reply_domain else None
        return self._mime(email, profile, now, reply_to)

    def compose_transactional(self, profile: dict[str, Any], template: EmailTemplate, values: dict[str, Any],
                              now: datetime, language: str | None = None,
                              attachments: Sequence[Attachment] = ()) -> bytes:
        """An email the person just asked for, in `language` (else the lead's): nothing in it is tracked."""
        email = render_transactional(template, language or str(profile.get("language") or "ja"), profile, values,
                                     self.identity)
        return self._mime(email, profile, now, attachments=attachments)

    def _mime(self, email: RenderedEmail, profile: dict[str, Any], now: datetime, reply_to: str | None = None,
              attachments: Sequence[Attachment] = ()) -> bytes:
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        return to_mime(email, self.sender, str(profile["email"]), now, domain, reply_to, attachments)


class Attempt(Struct, frozen=True):
    message_id: str
    at: str
    error: str | None = None  # None: SES accepted it (or an earlier delivery of this message did)
    stop: bool = False  # a permanent SES refusal (a step: the sequence stops); a render failure only skips
    ses_message_id: str | None = None  # what SES answered the send with: the Message-ID the recipient sees

    @property
    def outcome(self) -> Outcome:
        return "sent" if self.error is None else "failed"

    def activity(self, retention_days: int, data: dict[str, Any]) -> Activity:
        """The lead's record of it: email_sent, or email_failed with the error, beside what was sent."""
        return Activity(type="email_sent" if self.error is None else "email_failed", occurred_at=self.at,
                        event_id=self.message_id, expires_at=expiry(parse_iso(self.at), retention_days),
                        data={"message_id": self.message_id, **data, **({"error": self.error} if self.error else {})})


def message_id_for(lead_id: str, state: SequenceState) -> str:
    """One id per (lead, sequence, step, start of its delay): every delivery of a message agrees on it."""
    seed = f"{lead_id}|{state.sequence}|{state.step}|{state.step_started_at}"
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def deliver(message: StepMessage, store: SenderStore, mailer: Mailer, composer: Composer,
            config: SequencesConfig, subscriptions: SubscriptionsConfig, now: datetime, retention_days: int) -> str:
    """Send one due step email at most once and record what happened. Returns the outcome."""
    if store.sending_paused():
        # Queued before the guard paused: not sent. The dispatcher's lease runs out and the lead comes due
        # again, and is dispatched once sending resumes.
        return "paused"
    attempt: Attempt | None = None  # once SES has been called, it is never called again
    step: Step | None = None
    for retry in range(MAX_ATTEMPTS):
        found = store.lead_for_sending(message.lead_id)
        if found is None:
            return "gone"  # erased
        profile, suppressed = found
        version = int((profile.get("scoring") or {}).get("version", 0))
        try:
            if attempt is None:
                decision = decide(profile, suppressed, message, config, subscriptions, now)
                if decision.action == "drop":
                    return "dropped"
                assert decision.state is not None
                if decision.action != "send":
                    unsent = _unsent(message, decision, config)
                    store.record_send(unsent, version)
                    return unsent.outcome
                step = decision.step
                assert step is not None
                tags = {"lead": message.lead_id, "sequence": decision.state.sequence, "step": step.id}
                sequence = config.sequence(decision.state.sequence)
                assert sequence is not None  # decide sends only on a sequence the config has
                attempt = send_once(message.lead_id, profile, message_id_for(message.lead_id, decision.state),
                                    partial(composer.compose, message.lead_id, profile, step.template, now=now,
                                            subscription_type=sequence.type),
                                    tags, store, mailer, now, retention_days)
            assert step is not None
            record = _sent_record(message.lead_id, profile, attempt, step, config, now, retention_days)
            store.record_send(record, version)
            return record.outcome
        except WriteConflict:
            backoff(retry)  # scoring wrote the lead meanwhile: read it again
        except AlreadyRecorded:
            return "duplicate"
    raise StoreUnavailable("the lead kept changing while its send was recorded")


def send_once(lead_id: str, profile: dict[str, Any], message_id: str, render: Callable[[str], bytes],
              tags: dict[str, str], store: SenderStore, mailer: Mailer, now: datetime,
              retention_days: int) -> Attempt:
    """Send one email at most once, whatever redeliveries: a marker (`message_id`) is written before SES is
    called; another delivery finds it and waits, or learns from SES's own report whether it went out."""
    attempt = new_id()
    earlier = store.begin_send(lead_id, message_id, iso(now), expiry(now, retention_days), attempt)
    # Our own marker comes back when its put landed but the answer was lost and the SDK retried it.
    if earlier is not None and earlier.get("attempt") != attempt:
        if earlier.get("status") != "sending":
            raise AlreadyRecorded(message_id)
        waited = now - parse_iso(str(earlier["at"]))
        if waited < IN_FLIGHT:
            raise SendDeferred("another sender is sending this message")
        # Its sender died, or could not mark it abandoned, or SES answered with an error after which it may
        # have sent: SES's own events for the message (recorded by ses_events) say whether it went out.
        if store.ses_accepted(lead_id, message_id, str(earlier["at"])):
            return Attempt(message_id, str(earlier["at"]))
        if waited < SES_REPORT_WAIT:
            raise SendDeferred("waiting for SES to report the message, if it had it")
        if not store.take_over_send(lead_id, message_id, str(earlier.get("attempt")), attempt, iso(now)):
            raise SendDeferred("another sender took the message over")
    try:
        raw = render(message_id)
    except RenderFailed as error:
        return Attempt(message_id, iso(now), error=f"render: {error}")
    except Exception:
        store.abandon_send(lead_id, message_id)  # nothing went out: a retry may send
        raise
    try:
        ses_message_id = mailer.send(raw, str(profile["email"]), {**tags, "message": message_id})
    except SendDeferred as deferred:
        # When SES may have accepted it, the marker stays: the retry finds it and records the send.
        if not deferred.maybe_sent:
            store.abandon_send(lead_id, message_id)
        raise
    except SendRejected as error:
        return Attempt(message_id, iso(now), error=f"ses: {error.code}", stop=True)
    return Attempt(message_id, iso(now), ses_message_id=ses_message_id)


class AskedEmail(Struct, frozen=True):
    """An email a person just asked for (a double opt-in confirmation, a download's material), as planned on the
    lead read: the form that asked (its counters' step), its template, how to render it, what its activity says
    beside them (marked `asked`: sent at once, whatever the send window, the frequency cap or the pause)."""

    step: str
    template: str  # its name in templates/
    render: Callable[[str], bytes]  # the message id -> the MIME message
    data: dict[str, Any]


def deliver_asked(lead_id: str, message_id: str, counters: str, plan: Callable[[dict[str, Any]], AskedEmail | str],
                  store: SenderStore, mailer: Mailer, now: datetime, retention_days: int) -> str:
    """Send an asked-for email at most once (`message_id`), whatever the deliverability pause (a person is waiting
    for it, and it goes only to an address just typed): `plan` gives the email for the lead as read, or why none
    goes (dropped); a suppressed address gets nothing. Returns the outcome: sent, failed, gone, dropped,
    skipped_suppressed, duplicate."""
    attempt: Attempt | None = None
    planned: AskedEmail | None = None
    for retry in range(MAX_ATTEMPTS):
        found = store.lead_for_sending(lead_id)
        if found is None:
            return "gone"
        profile, suppressed = found
        version = int((profile.get("scoring") or {}).get("version", 0))
        try:
            if planned is None or attempt is None:
                chosen = plan(profile)
                if isinstance(chosen, str):
                    return chosen
                if suppressed:  # a bounced, complaining or erased address gets nothing, this included
                    return "skipped_suppressed"
                planned = chosen
                attempt = send_once(lead_id, profile, message_id, planned.render,
                                    {"lead": lead_id, "sequence": counters, "step": planned.step},
                                    store, mailer, now, retention_days)
            store.record_send(SendRecord(
                lead_id=lead_id, sequence=counters, step_id=planned.step, outcome=attempt.outcome, state=None,
                reschedule=False, activity=attempt.activity(retention_days, {
                    "sequence": counters, "step": planned.step, "template": planned.template, "asked": True,
                    **planned.data}), message_id=message_id,
                error=attempt.error, ses_message_id=attempt.ses_message_id), version)
            return attempt.outcome
        except WriteConflict:
            backoff(retry)
        except AlreadyRecorded:
            return "duplicate"
    raise StoreUnavailable("the lead kept changing while its email was recorded")


def _sent_record(lead_id: str, profile: dict[str, Any], attempt: Attempt, step: Step, config: SequencesConfig,
                 now: datetime, retention_days: int) -> SendRecord:
    """The record of an attempt, against the lead as it is now (it may have moved on since the send)."""
    state = SequenceState.from_item(profile.get("sequence"))
    assert state is not None
    facts = lead_facts(profile, str(profile.get("rank", "C")), str(profile.get("stage", "nurturing")), now)
    at = parse_iso(attempt.at)
    still_due = not state.stopped and message_id_for(lead_id, state) == attempt.message_id
    if attempt.error is None:
        new = advance(state, config, facts, at, attempt.message_id) if still_due else \
            retime(note_sent(state, step.template, at), config, facts)  # the lead moved on meanwhile
    elif not still_due:
        new = state
    elif attempt.stop:
        new = replace(state, stopped="send_failed", next_send_at=None)
    else:
        new = skip(state, config, facts, at)
    activity = attempt.activity(retention_days, {"sequence": state.sequence, "step": step.id,
                                                 "template": step.template})
    return SendRecord(lead_id=lead_id, sequence=state.sequence, step_id=step.id, outcome=attempt.outcome, state=new,
                      reschedule=new.next_send_at != state.next_send_at, activity=activity,
                      message_id=attempt.message_id, error=attempt.error, ses_message_id=attempt.ses_message_id)


def _unsent(message: StepMessage, decision: SendDecision, config: SequencesConfig) -> SendRecord:
    assert decision.state is not None
    outcome: Outcome = ("skipped" if decision.action == "skip" else
                        "waiting" if decision.action == "wait" else
                        _followed_up(message, decision.state, config) if decision.action == "follow_up" else
                        "stopped")
    return SendRecord(lead_id=message.lead_id, sequence=message.sequence,
                      step_id=decision.step.id if decision.step is not None and outcome == "skipped" else None,
                      outcome=outcome, state=decision.state, reschedule=True)


def _followed_up(message: StepMessage, state: SequenceState, config: SequencesConfig) -> Outcome:
    if state.stopped == "sunset":
        return "sunset"
    if state.stopped not in (None, "completed"):
        return "stopped"  # a stop rule holds now (unsubscribed, handed off...)
    moved_to = config.sequence(state.sequence) if state.sequence != message.sequence else None
    return "reengaged" if moved_to is not None and moved_to.reengages else "rechecked"
