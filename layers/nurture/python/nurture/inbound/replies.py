"""The replies consumer: SES receiving stores each message in the reply bucket, then invokes this with the
message's receipt (asynchronously: a failed invocation is retried by Lambda, then kept in the dead-letter
queue). Each message is read from the bucket and acted on once; what came of it is a log line of ids and an
outcome, never an address or a word of the message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.ses_event import SESEvent, SESEventRecord

from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.reply_store import DynamoReplyStore, MessageGone, MessageTooLarge, S3ReplyMail
from nurture.config import NurtureConfig
from nurture.domain.clock import parse_iso
from nurture.domain.preferences.centre import PreferenceSettings
from nurture.domain.replies.reading import UnreadableReply
from nurture.domain.replies.receiving import Received, ReceivedMail, owner_alerts, receive_reply
from nurture.domain.tokens import TokenSigner
from nurture.observability import logger

# SES's verdicts a message must not fail to be read at all.
CHECKED_VERDICTS = ("spam_verdict", "virus_verdict")


@dataclass(frozen=True)
class ReplyServices:
    store: DynamoReplyStore
    mail: S3ReplyMail
    signer: Callable[[], TokenSigner]  # the cached keyring
    fresh_signer: Callable[[], TokenSigner | None]  # the keyring read again (None: it was a moment ago)
    alerts: AlertQueue
    reply_domain: str
    api_base: str  # for the owner's link to the lead


def handle_receipts(event: dict[str, Any], services: ReplyServices, config: NurtureConfig,
                    clock: Callable[[], datetime]) -> dict[str, int]:
    """Every receipt of the event (SES sends one a message); the outcomes counted."""
    settings = PreferenceSettings(config.api.event_retention_days, config.subscriptions)
    outcomes: Counter[str] = Counter()
    for record in SESEvent(event).records:
        received = _receive(record, services, config, settings)
        outcomes[received.outcome] += 1
        alerted = 0
        if received.tells_owner and received.lead_id is not None and received.reply is not None:
            jobs = owner_alerts(received.lead_id, record.ses.mail.message_id, received.reply.excerpt, services.store,
                                config.sales, config.scoring, clock(), services.api_base)
            services.alerts.send_jobs(jobs)
            alerted = len(jobs)
        logger.info("reply", extra={"outcome": received.outcome, "ses_message_id": record.ses.mail.message_id,
                                    "lead_id": received.lead_id, "owner_alerts": alerted})
    return dict(outcomes)


def _receive(record: SESEventRecord, services: ReplyServices, config: NurtureConfig,
             settings: PreferenceSettings) -> Received:
    receipt = record.ses.receipt
    if any(getattr(receipt, verdict).status == "FAIL" for verdict in CHECKED_VERDICTS):
        return Received("refused_by_ses_checks")
    mail = ReceivedMail(record.ses.mail.message_id, parse_iso(record.ses.mail.timestamp), tuple(receipt.recipients),
                        receipt.dmarc_verdict.status == "PASS")
    try:
        raw = services.mail.raw(mail.ses_message_id)
    except MessageTooLarge:
        return Received("too_large")
    except MessageGone:
        return Received("gone")
    try:
        received = receive_reply(mail, raw, services.signer(), services.store, config, settings,
                                 services.reply_domain)
        if received.outcome == "unknown_address":  # perhaps signed by a key newer than this container's keyring
            fresh = services.fresh_signer()
            if fresh is not None:
                received = receive_reply(mail, raw, fresh, services.store, config, settings, services.reply_domain)
    except UnreadableReply:
        return Received("unreadable")
    return received
