"""Keep the emulator's DynamoDB stream as short as DynamoDB Streams keeps its own.

DynamoDB Streams drops records after 24 hours; moto keeps every record forever, and deep-copies the
whole table (its stream included) before each TransactWriteItems so that it can roll back. Left
alone, every form submit gets slower as the local system runs. The local runtime therefore drops
records once its poller has delivered them. moto has no locking of its own, so the few moto methods
that touch a stream are serialized with the trimming under one lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import StreamShard

_lock = threading.RLock()
_installed = False


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return locked


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        StreamShard.add = _serialized(StreamShard.add)  # type: ignore[method-assign]
        StreamShard.get = _serialized(StreamShard.get)  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = _serialized(  # type: ignore[method-assign]
            DynamoDBBackend.transact_write_items)
        _installed = True


def stream_trimmer(table_name: str, region: str) -> Callable[[str], None]:
    """A callback for the poller: forget the records up to a delivered sequence number."""

    def trim(delivered_through: str) -> None:
        with _lock:
            shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables[table_name].stream_shard
            if shard is None:
                return
            consumed = int(delivered_through) - shard.starting_sequence_number + 1
            if 0 < consumed <= len(shard.items):
                del shard.items[:consumed]
                shard.starting_sequence_number += consumed

    return trim


def sent_emails(region: str, since: int = 0) -> list[tuple[str, bytes]]:
    """(SES message id, raw MIME) of what the emulator's SES accepted, from the `since`-th on."""
    from moto.ses.models import ses_backends

    messages = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages[since:]
    return [(m.id, m.raw_data.encode("utf-8")) for m in messages if hasattr(m, "raw_data")]
