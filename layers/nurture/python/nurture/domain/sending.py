"""The sender's decision, just before an email goes out: send, skip the step, stop, or nothing.

Pure: the lead as it is now (re-read right before sending), the dispatcher's message, the config.
A lead that unsubscribed a second ago, was suppressed, gave no consent or met a stop rule gets
nothing; a message about a step the lead is no longer on (a stale or duplicate message) is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal

from nurture.config.sequences import SequencesConfig, Step
from nurture.domain.emails import RenderedEmail
from nurture.domain.sequencing import (
    SequenceState,
    advance,
    current_step,
    lead_facts,
    skip,
    step_applies,
    stop_reason,
)

Action = Literal["send", "skip", "stop", "drop"]


@dataclass(frozen=True)
class SendDecision:
    action: Action
    reason: str
    state: SequenceState | None = None  # the state to store (for send: once the email is out)
    step: Step | None = None


def decide(profile: dict[str, Any], suppressed: bool, message: dict[str, Any], config: SequencesConfig,
           now: datetime) -> SendDecision:
    state = SequenceState.from_item(profile.get("sequence"))
    if state is None or state.sequence != message.get("sequence") or state.step != message.get("step"):
        return SendDecision("drop", "the lead is no longer on this step")
    if state.stopped:
        return SendDecision("drop", f"the sequence stopped: {state.stopped}")
    sequence = next((s for s in config.sequences if s.id == state.sequence), None)
    step = current_step(state, config)
    if sequence is None or step is None:
        return SendDecision("drop", "the sequence or step no longer exists in the config")
    facts = lead_facts(profile, str(profile.get("rank", "C")), str(profile.get("stage", "nurturing")), now)
    reason = ("suppressed" if suppressed else None) or stop_reason(sequence, facts) or (
        None if (profile.get("consent") or {}).get("granted") is True else "no_consent")
    if reason is not None:
        return SendDecision("stop", reason, replace(state, stopped=reason, next_send_at=None))
    if not step_applies(step, state):
        return SendDecision("skip", f"condition {step.condition} does not hold", skip(state, config, facts, now))
    return SendDecision("send", "due", advance(state, config, facts, now), step)


def to_mime(email: RenderedEmail, sender: str, recipient: str, now: datetime, domain: str) -> bytes:
    """A multipart/alternative message with the one-click unsubscribe headers (RFC 8058)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text, charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    return bytes(message)
