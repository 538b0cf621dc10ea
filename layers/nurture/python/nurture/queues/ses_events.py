"""The SES events consumer: each SQS record carries one SES record about one email, in the envelope it came in.

Since issue 20 the configuration set publishes to EventBridge's default bus and a rule sends the events to the
queue, so a body is an EventBridge event whose `detail` is the SES record. Bodies in the older shapes are still
read: an SNS notification (what the SNS topic delivered before; such messages may still be queued, or in the
dead-letter queue to be redriven, when a stack upgrades) and the bare record (SNS's raw delivery).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from nurture.config import NurtureConfig
from nurture.config.sequences import Deliverability
from nurture.domain.clock import iso
from nurture.domain.deliverability import DayCounts, Verdict, judge
from nurture.domain.ses_events import SesEvent, SesEventStore, UnreadableSesEvent, apply_events, parse_record
from nurture.observability import logger, metrics
from nurture.queues.batch import QueueMessage, partial_response
from nurture.topology import SES_EVENT_SOURCE


class GuardStore(Protocol):
    def recent_days(self) -> list[DayCounts]: ...

    def pause(self, verdict: Verdict, at: str) -> bool: ...


def handle_batch(event: dict[str, Any], store: SesEventStore, guard: GuardStore,
                 config: NurtureConfig, clock: Callable[[], datetime]) -> dict[str, Any]:
    reputation_events = 0

    def record_events(message: QueueMessage) -> None:
        nonlocal reputation_events
        # An unreadable body raises here: that message alone fails, and after a few receives sits in the DLQ.
        events = events_in(message)
        applied = apply_events(events, store, config.api.event_retention_days,
                               config.sequences.deliverability.transient_bounces_to_suppress, config.bots)
        reputation_events += sum(1 for effect in applied if effect.event.permanent_failure)
        # Counted in this log line and the report, not as metrics (issue 20's budget).
        logger.info("ses events", extra={"kinds": sorted({e.kind for e in events}), "applied": len(applied),
                                         "duplicates": len(events) - len(applied),
                                         "suppressed": sum(1 for effect in applied if effect.suppress),
                                         "leads": sorted({e.address.lead_id for e in applied if e.address.lead_id})})

    response = partial_response(event, record_events)
    if reputation_events:
        check_reputation(guard, config.sequences.deliverability, clock())
    return response


def events_in(message: QueueMessage) -> list[SesEvent]:
    """The SES events an SQS message carries; an unreadable one is logged by what is wrong with it (never its
    body, which names addresses) and raised."""
    try:
        return parse_record(ses_record(message))
    except UnreadableSesEvent as error:
        logger.error("unreadable SES event", extra={"reason": str(error), "sqs_message_id": message.message_id})
        raise


def ses_record(message: QueueMessage) -> dict[str, Any]:
    """The SES record in an SQS message, out of its envelope: an EventBridge event's `detail`, an SNS
    notification's `Message`, or the bare record."""
    try:
        document = message.json_body()
    except ValueError as error:
        raise UnreadableSesEvent("the message body is not JSON") from error
    if not isinstance(document, dict):
        raise UnreadableSesEvent("the message body is not a JSON object")
    if "detail-type" in document and "detail" in document:  # EventBridge
        source = document.get("source")
        if source != SES_EVENT_SOURCE:
            raise UnreadableSesEvent(f"an EventBridge event from {str(source)[:40]!r}, not from SES")
        detail = document["detail"]
        if not isinstance(detail, dict):
            raise UnreadableSesEvent("an EventBridge event whose detail is not an object")
        return detail
    if document.get("Type") == "Notification" and "Message" in document:  # SNS
        try:
            message = json.loads(document["Message"])
        except (TypeError, ValueError) as error:
            raise UnreadableSesEvent("the SNS message is not JSON") from error
        if not isinstance(message, dict):
            raise UnreadableSesEvent("the SNS message is not a JSON object")
        return message
    return document  # the bare record


def check_reputation(guard: GuardStore, settings: Deliverability, now: datetime) -> Verdict:
    """After hard bounces or complaints: the rolling rates, and the pause when they cross the line."""
    verdict = judge(guard.recent_days(), settings)
    rates = {"bounce_rate_percent": round(verdict.bounce_rate * 100, 4),
             "complaint_rate_percent": round(verdict.complaint_rate * 100, 4)}
    if verdict.pause and guard.pause(verdict, iso(now)):
        metrics.add_metric(name="SendingPaused", unit="Count", value=1)
        logger.warning("sending paused by the deliverability guard", extra={"reason": verdict.reason, **rates})
    elif verdict.warn:
        # Over a threshold, not yet with the evidence to pause: someone should look before it does.
        metrics.add_metric(name="SendingAtRisk", unit="Count", value=1)
        logger.warning("deliverability at risk", extra={"reason": verdict.reason, **rates})
    else:
        logger.info("deliverability", extra=rates)
    return verdict
