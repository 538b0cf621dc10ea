"""Step emails as the local runtime drives them: a lead enrolled by a form, the dispatcher's tick at a
chosen moment, the send queue drained through the sender, and what the emulated SES sent."""

from __future__ import annotations

import functools
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import time_machine

from nurture.domain.clock import parse_iso
from nurture.local import emulator
from nurture.local.functions import invoke
from nurture.local.queues import QueuePoller, scheduled_event
from nurture.local.resources import LocalResources
from tests.functions.helpers import profile, submit
from tests.functions.pipeline import Pipeline

RESOURCES = LocalResources()


def enrolled(email: str = "first@example.co.jp", name: str = "山田") -> str:
    pipeline = Pipeline()  # it reads the stream from now on
    lead_id: str = submit("/v1/forms/contact", {"email": email, "name": name, "company": "Acme",
                                                            "consent": True})
    pipeline.drain()
    return lead_id


def due_at(lead_id: str) -> datetime:
    return parse_iso(profile(lead_id)["sequence"]["next_send_at"])


def send_queue() -> QueuePoller:
    return QueuePoller(RESOURCES.queue_url(RESOURCES.send_queue), RESOURCES.region, functools.partial(invoke, "sender"))


def dispatch(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        invoke("dispatcher", scheduled_event(RESOURCES.region, moment))


def dispatch_and_send(moment: datetime) -> None:
    dispatch(moment)
    with time_machine.travel(moment, tick=False):
        send_queue().drain()


def outbox() -> list[EmailMessage]:
    parsed = [message_from_bytes(sent.raw, policy=default) for sent in emulator.sent_emails(RESOURCES.region)]
    return [m for m in parsed if isinstance(m, EmailMessage)]
