"""The scorer's stream consumer: parse records, score per lead, queue what posts asked for (double opt-in
confirmations, download forms' materials, seminar registrations), report only what failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from nurture.domain.activity import expand
from nurture.domain.clock import parse_iso
from nurture.domain.downloads.requests import MaterialMessage, requested_material
from nurture.domain.errors import StoreUnavailable
from nurture.domain.events.requests import (
    FollowUpMessage,
    PromotionMessage,
    RegistrationMessage,
    requested_follow_up,
    requested_promotion,
    requested_registration,
)
from nurture.domain.preferences.double_opt_in import ConfirmationMessage, requested_confirmation
from nurture.domain.score_batch import ScoringStore, score_batch
from nurture.domain.scoring import ScoredEvent
from nurture.observability import logger, metrics
from nurture.settings import marketer_config
from nurture.streams.records import StreamRecord, UnreadableRecord, stream_partial_response, stream_records


class PoisonRecord(ValueError):
    """A record that can never be scored: reported, and after bounded retries it goes to the DLQ."""


class ScoringFailed(RuntimeError):
    """The lead's update kept losing races: reported so the stream retries it."""


class EmailNotQueued(RuntimeError):
    """The send queue refused an asked-for email: the record is retried (its score is not applied twice, and the
    sender sends each email once)."""


AskedMessage = ConfirmationMessage | MaterialMessage | RegistrationMessage | FollowUpMessage | PromotionMessage


class SendQueue(Protocol):
    def send_batch(self, messages: Sequence[AskedMessage]) -> None: ...


def parse_record(record: StreamRecord) -> tuple[str, list[ScoredEvent]]:
    """The lead and the events a new activity item holds (a beacon request's batch holds several, scored together
    under the record's one sequence number)."""
    try:
        image, pk = record.new_image, str(record.keys.get("PK", ""))
    except UnreadableRecord as error:
        raise PoisonRecord(str(error)) from error
    if not image or not pk.startswith("LEAD#"):
        raise PoisonRecord("not a new activity event of a lead")
    events: list[ScoredEvent] = []
    for attributes in expand(image):
        try:
            occurred_at = parse_iso(str(attributes["occurred_at"]))
            event = ScoredEvent(
                event_id=str(attributes["event_id"]),
                occurred_at=occurred_at,
                sequence=int(record.sequence_number),
                attributes={k: v for k, v in attributes.items() if k not in ("PK", "SK")},
                stream=record.event_source_arn,
            )
        except (KeyError, ValueError, TypeError) as error:
            raise PoisonRecord(f"unreadable activity event: {error}") from error
        if not isinstance(event.attributes.get("type"), str) or occurred_at.tzinfo is None:
            raise PoisonRecord("activity event without a type or a time zone")
        events.append(event)
    if not events:
        raise PoisonRecord("a batch of no events")
    return pk.removeprefix("LEAD#"), events


def handle_batch(event: dict[str, Any], store: ScoringStore, now: datetime, send_queue: SendQueue) -> dict[str, Any]:
    config = marketer_config()
    by_lead: dict[str, list[ScoredEvent]] = {}
    lead_of: dict[str, str] = {}
    poison: dict[str, str] = {}
    asked: dict[str, list[AskedMessage]] = {}  # by the record that asked
    records = stream_records(event)
    for record in records:
        sequence = record.sequence_number
        try:
            lead_id, scored = parse_record(record)
        except PoisonRecord as error:
            poison[str(sequence)] = str(error)
            continue
        by_lead.setdefault(lead_id, []).extend(scored)
        lead_of[str(sequence)] = lead_id
        for one in scored:
            for message in (requested_confirmation(lead_id, one.attributes),
                            requested_material(lead_id, one.attributes),
                            requested_registration(lead_id, one.attributes, config.events),
                            requested_follow_up(lead_id, one.attributes, config.events),
                            requested_promotion(lead_id, one.attributes, config.events)):
                if message is not None:
                    asked.setdefault(str(sequence), []).append(message)
    outcome = score_batch(by_lead, store, config.scoring, now, config.api.event_retention_days, config.sequences,
                          click_burst_seconds=config.bots.click_burst_seconds, url_groups=config.segments.url_groups,
                          sales=config.sales)
    failed = set(outcome.failed)
    if outcome.kpis:
        try:
            store.add_kpis(outcome.kpis)
        except StoreUnavailable as error:  # the scores stand; the home's counts miss this batch (domain.kpis)
            logger.warning("daily KPIs not counted", extra={"reason": str(error), "days": sorted(outcome.kpis)})
    if outcome.handoffs:
        metrics.add_metric(name="HotLeads", unit="Count", value=len(outcome.handoffs))
        logger.info("leads became hot", extra={"lead_ids": outcome.handoffs})
    if outcome.gone:
        logger.info("activity of erased leads dropped", extra={"lead_ids": outcome.gone})
    if outcome.unjoined:  # their scores stand; their next activity sets their account
        logger.warning("leads' accounts not set now", extra={"lead_ids": outcome.unjoined})
    if outcome.unrefreshed:  # as listed by rank; their people's next day of activity stores them
        logger.warning("accounts' standing not stored now", extra={"account_ids": outcome.unrefreshed})
    unqueued = set()
    if asked:
        try:  # at least once: the sender sends each asked-for email once
            send_queue.send_batch([message for messages in asked.values() for message in messages])
            logger.info("asked-for emails queued", extra={"count": sum(map(len, asked.values()))})
        except StoreUnavailable as error:
            logger.warning("asked-for emails not queued: retried", extra={"reason": str(error)})
            unqueued = set(asked)

    def check(record: StreamRecord) -> None:
        sequence = record.sequence_number
        if sequence in poison:
            raise PoisonRecord(poison[sequence])
        if lead_of.get(sequence) in failed:
            raise ScoringFailed("the lead's score kept changing under concurrent writers")
        if sequence in unqueued:
            raise EmailNotQueued("the send queue refused an asked-for email")

    return stream_partial_response(records, check)
