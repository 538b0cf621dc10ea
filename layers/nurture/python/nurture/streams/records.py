"""What the table's stream consumers read of a record, and their partial batch answer: a failed record is named
by its sequence number, so the stream delivers the batch again from there (and, past its retries, sends the record
to the consumer's DLQ) while the records before it are done. The event source mapping must report batch item
failures (infra: `report_batch_item_failures`).

Read here rather than with Powertools' DynamoDBRecord and BatchProcessor (docs/decisions.md, 112): the images are
turned into plain values by boto3's deserializer, as the table's adapter reads items."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from decimal import DecimalException
from functools import cached_property
from typing import Any

from nurture.adapters.dynamo import from_item
from nurture.partial_batch import answer_each, event_records


class NotAStreamBatch(ValueError):
    """The invocation's event is not a stream batch: the whole invocation fails, nothing is checkpointed."""


class UnreadableRecord(ValueError):
    """A record's keys or image are not DynamoDB JSON: that record fails alone."""


class StreamRecord:
    """One DynamoDB stream record: its sequence number, its source, its keys and new image as plain values (read
    when first asked for)."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self._change: Mapping[str, Any] = record.get("dynamodb") or {}
        self.sequence_number = str(self._change["SequenceNumber"])
        self.event_source_arn: str | None = record.get("eventSourceARN")

    @cached_property
    def keys(self) -> dict[str, Any]:
        return self._plain("Keys") or {}

    @cached_property
    def new_image(self) -> dict[str, Any] | None:
        return self._plain("NewImage")

    def _plain(self, part: str) -> dict[str, Any] | None:
        item = self._change.get(part)
        if not item:
            return None
        try:
            return from_item({name: _bytes_for_binaries(value) for name, value in item.items()})
        except (AttributeError, IndexError, KeyError, TypeError, ValueError, DecimalException) as error:
            raise UnreadableRecord(f"the record's {part} is not DynamoDB JSON") from error


def _bytes_for_binaries(value: Any) -> Any:
    """An attribute value with its binary values as bytes, as the SDK's client hands them over: Lambda's event
    carries them base64-encoded, which boto3's deserializer refuses."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return value
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner, validate=True)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member, validate=True) for member in inner]}
    if kind == "M":
        return {"M": {name: _bytes_for_binaries(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [_bytes_for_binaries(member) for member in inner]}
    return value


def stream_records(event: Mapping[str, Any]) -> list[StreamRecord]:
    """The batch's records in order; NotAStreamBatch before any is read when the event is not a stream batch."""
    records = event_records(event, lambda record: isinstance(record.get("dynamodb"), Mapping)
                            and "SequenceNumber" in record["dynamodb"])
    if records is None:
        raise NotAStreamBatch("the event is not a stream batch: no Records list of changes with a sequence number")
    return [StreamRecord(record) for record in records]


def stream_partial_response(records: list[StreamRecord], handle: Callable[[StreamRecord], None]) -> dict[str, Any]:
    """Handle every record; the answer names by sequence number those whose handling raised."""
    return answer_each(records, lambda record: record.sequence_number, handle, "sequence_number")
