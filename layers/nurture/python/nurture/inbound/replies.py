"""The replies consumer: SES receiving stores each message in the reply bucket, then invokes this with the
message's receipt (asynchronously: a failed invocation is retried by Lambda, then kept in the dead-letter
queue). Each message is read from the bucket and acted on once; what came of it is a log line of ids and an
outcome, never an address or a word of the message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from msgspec import Struct

from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.reply_store import DynamoReplyStore, MessageGone, MessageTooLarge, S3ReplyMail
from nurture.config import NurtureConfig
from nurture.domain.clock import parse_iso
from nurture.domain.preferences.centre import PreferenceSettings
from nurture.domain.replies.reading import UnreadableReply
from nurture.domain.replies.receiving import Received, ReceivedMail, owner_alerts, receive_reply
from nurture.domain.tokens import TokenSigner
from nurture.observability import logger
from nurture.partial_batch import event_records

# SES's verdicts a message must not fail to be read at all.
CHECKED_VERDICTS = ("spamVerdict", "virusVerdict")


class NotAReceipt(ValueError):
    """The event is not SES receiving's: the invocation fails (Lambda retries it, then keeps it in the DLQ)."""


class Receipt(Struct, frozen=True):
    """What the consumer reads of one SES receiving record (read here rather than with Powertools' SESEvent, whose
    import brings every one of its event classes: docs/decisions.md, 112)."""

    mail: ReceivedMail
    refused_by_checks: bool  # SES found spam or a virus

    @classmethod
    def of(cls, record: Any) -> Receipt:
        try:
            mail, receipt = record["ses"]["mail"], record["ses"]["receipt"]
            return cls(ReceivedMail(str(mail["messageId"]), parse_iso(str(mail["timestamp"])),
                                    tuple(map(str, receipt["recipients"])),
                                    receipt["dmarcVerdict"]["status"] == "PASS"),
                       any(receipt[verdict]["status"] == "FAIL" for verdict in CHECKED_VERDICTS))
        except (KeyError, TypeError, ValueError) as error:
            raise NotAReceipt(f"not an SES receiving record: {type(error).__name__} {error}") from error


def receipts(event: dict[str, Any]) -> list[Receipt]:
    """Every receipt of the event, all read before any is acted on."""
    records = event_records(event, lambda record: isinstance(record.get("ses"), Mapping))
    if records is None:
        raise NotAReceipt("not an SES receiving event: no Records list of SES records")
    return [Receipt.of(record) for record in records]


class ReplyServices(Struct, frozen=True):
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
    for receipt in receipts(event):
        received = _receive(receipt, services, config, settings)
        outcomes[received.outcome] += 1
        alerted = 0
        if received.tells_owner and received.lead_id is not None and received.reply is not None:
            jobs = owner_alerts(received.lead_id, receipt.mail.ses_message_id, received.reply.excerpt, services.store,
                                config.sales, config.scoring, clock(), services.api_base)
            services.alerts.send_jobs(jobs)
            alerted = len(jobs)
        logger.info("reply", extra={"outcome": received.outcome, "ses_message_id": receipt.mail.ses_message_id,
                                    "lead_id": received.lead_id, "owner_alerts": alerted})
    return dict(outcomes)


def _receive(receipt: Receipt, services: ReplyServices, config: NurtureConfig,
             settings: PreferenceSettings) -> Received:
    if receipt.refused_by_checks:
        return Received("refused_by_ses_checks")
    mail = receipt.mail
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
