"""Partial batch answers for the event source mappings that report batch item failures (SQS queues, the table's
stream): each record is handled on its own and only the failed ones are named back, so the source delivers those
again (and, past its retries, dead-letters them) while the rest are done.

Written here rather than with Powertools' BatchProcessor: importing it brings asyncio and every one of Powertools'
event data classes, about 40 ms of each consumer's cold start, for a loop of a few lines (docs/decisions.md, 97
and 112)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from nurture.observability import logger

Record = TypeVar("Record")


def event_records(event: object, holds: Callable[[Mapping[str, Any]], bool]) -> list[Mapping[str, Any]] | None:
    """The event's `Records`, when it is a list of objects each of which `holds` its kind's key (an SQS message
    id, a stream change's sequence number, an SES receipt); None when the event is not such a batch, so the
    consumer refuses it whole before handling any record."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not all(isinstance(record, Mapping) and holds(record) for record in records):
        return None
    return records


def answer_each(records: Sequence[Record], identify: Callable[[Record], str], handle: Callable[[Record], None],
                log_key: str) -> dict[str, Any]:
    """Handle every record; the answer names (by `identify`) those whose handling raised. A batch whose every record
    failed is answered the same way, record by record, not with an exception."""
    failures = []
    for record in records:
        try:
            handle(record)  # a malformed record is that record's failure too
        except Exception as error:  # any failure of one record is that record's alone
            # The exception's type only: its text may quote a lead's values.
            logger.warning("record not handled: delivered again",
                           extra={log_key: identify(record), "error": type(error).__name__})
            failures.append({"itemIdentifier": identify(record)})
    return {"batchItemFailures": failures}
