"""The replies consumer: SES receiving stores each message in the reply bucket, then invokes this with the
message's receipt (asynchronously: a failed invocation is retried by Lambda, then kept in the dead-letter
queue). Each message is read from the bucket and acted on once; what came of it is a log line of ids and an
outcome, never an address or a word of the message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.ses_event import SESEvent, SESEventRecord

from nurture.adapters.reply_store import DynamoReplyStore, MessageGone, MessageTooLarge, S3ReplyMail
from nurture.config import NurtureConfig
from nurture.domain.clock import parse_iso
from nurture.domain.preferences.centre import PreferenceSettings
from nurture.domain.replies.reading import UnreadableReply
from nurture.domain.replies.receiving import ReceivedMail, receive_reply
from nurture.domain.tokens import TokenSigner
from nurture.observability import logger

# SES's verdicts a message must not fail to be read at all.
CHECKED_VERDICTS = ("spam_verdict", "virus_verdict")


def handle_receipts(event: dict[str, Any], store: DynamoReplyStore, mail: S3ReplyMail,
                    signers: Callable[[bool], TokenSigner | None], config: NurtureConfig,
                    reply_domain: str) -> dict[str, int]:
    """Every receipt of the event (SES sends one a message); the outcomes counted. `signers(False)`: the
    cached keyring; `signers(True)`: read again, or None when it was read again a moment ago."""
    settings = PreferenceSettings(config.api.event_retention_days, config.subscriptions)
    outcomes: Counter[str] = Counter()
    for record in SESEvent(event).records:
        outcome = _receive(record, store, mail, signers, config, settings, reply_domain)
        outcomes[outcome] += 1
        logger.info("reply", extra={"outcome": outcome, "ses_message_id": record.ses.mail.message_id})
    return dict(outcomes)


def _receive(record: SESEventRecord, store: DynamoReplyStore, mail: S3ReplyMail,
             signers: Callable[[bool], TokenSigner | None], config: NurtureConfig, settings: PreferenceSettings,
             reply_domain: str) -> str:
    receipt = record.ses.receipt
    if any(getattr(receipt, verdict).status == "FAIL" for verdict in CHECKED_VERDICTS):
        return "refused_by_ses_checks"
    received = ReceivedMail(record.ses.mail.message_id, parse_iso(record.ses.mail.timestamp),
                            tuple(receipt.recipients))
    try:
        raw = mail.raw(received.ses_message_id)
    except MessageTooLarge:
        return "too_large"
    except MessageGone:
        return "gone"
    signer = signers(False)
    assert signer is not None
    try:
        outcome = receive_reply(received, raw, signer, store, config, settings, reply_domain)
        if outcome == "unknown_address":  # perhaps signed by a key newer than this container's keyring
            fresh = signers(True)
            if fresh is not None:
                outcome = receive_reply(received, raw, fresh, store, config, settings, reply_domain)
    except UnreadableReply:
        return "unreadable"
    return outcome
