"""Make the emulator's DynamoDB behave at DynamoDB's cost profile, not at the size of the table.

moto answers correctly but does work proportional to the whole table where DynamoDB does not:
every Query sorts every item of the table before it looks at the partition or index asked for, and
every TransactWriteItems deep-copies the whole table (its stream included) once per item, so that it
can roll back. Left alone, the local system gets slower with every lead, and a simulated month of
nurturing takes hours. `install()` patches these things, keeping moto's answers the same:

- a Query looks only at its partition (table) or at the items that carry the index's keys (a GSI);
- a Scan page of the table reads from where the last one ended, in its segment, not from the start;
- DescribeTable gives each global index's ItemCount, as DynamoDB does (refreshed there every six hours,
  exact here): it sizes a segment job's parts;
- a transaction's rollback copy shares the items it does not touch and copies those it does, and keeps the
  table's one stream: a cancelled transaction takes its records back out of it, rather than putting back
  an older stream (a reader holding an iterator on the replaced one would see the cancelled records, then
  miss the next ones, which reuse their sequence numbers);
- DynamoDB Streams drops records after 24 hours: the local runtime drops them once delivered;
- SES keeps the message tags of each email (moto drops them), for the events the runtime publishes;
- TransactWriteItems honours its ClientRequestToken (botocore fills one in, and its retries repeat
  it): a repeat within ten minutes succeeds without writing again, as DynamoDB does;
- the emulator's server finds the service a request is for without listing moto's package directory
  (it did, under a lock, on every request), and a handler's method names are listed once per class, not
  once per request (5% of a simulation's time);
- the answers of DynamoDB's item operations and of the stream's GetRecords are written with `json.dumps`:
  moto's serializer walks the operation's output shape for every attribute value (about 1 ms an item, so
  a BatchGetItem of an account's 100 people took 100 ms of CPU). The same values, less what is not in the
  output shape (moto adds ConsumedCapacityUnits to DeleteItem), but for whole capacity units written as 2
  where moto writes 2.0 (nothing reads them): tests/functions/test_emulator.py compares the two.

moto has no locking of its own, and a cancelled transaction puts back its rollback copy of the
table: a write another thread made meanwhile would vanish, stream record and all. So every DynamoDB
call is serialized, with the stream's reads and its trimming, under one lock, as DynamoDB's own
isolation would have it.
"""

from __future__ import annotations

import base64
import bisect
import calendar
import copy
import datetime as dt
import functools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

from moto import backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core import responses as moto_responses
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import get_service_model
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.sesv2.responses import SESV2Response

_lock = threading.RLock()
_installed = False
_scope = threading.local()  # what the current Query or transaction is about
_ses_tags: dict[str, dict[str, str]] = {}  # SES message id -> its message tags
_ses_configuration_sets: dict[str, str] = {}  # SES message id -> the configuration set it was sent with


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
        listed = backends.list_of_moto_modules
        DynamoHandler.call_action = _serialized(DynamoHandler.call_action)  # type: ignore[method-assign]
        StreamShard.get = _serialized(StreamShard.get)  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = _with_touched_items(  # type: ignore[method-assign]
            DynamoDBBackend.transact_write_items)
        Table.query = _scoped_query(Table.query)  # type: ignore[method-assign]
        Table.scan = _scoped_scan(Table.scan)  # type: ignore[method-assign]
        Table.describe = _with_index_counts(Table.describe)  # type: ignore[method-assign]
        Table.all_items = _scoped_all_items(Table.all_items)  # type: ignore[method-assign, assignment]
        Table.__deepcopy__ = _table_copy  # type: ignore[attr-defined]
        SESV2Response.send_email = _keeping_tags(SESV2Response.send_email)  # type: ignore[method-assign, assignment]
        DynamoHandler.transact_write_items = _idempotent(  # type: ignore[method-assign, assignment]
            DynamoHandler.transact_write_items)
        backends.list_of_moto_modules = functools.cache(lambda: tuple(listed()))  # type: ignore[assignment]
        # Listed at a class's first request: an action method added to a class later would be missed.
        moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)
        DynamoHandler.serialized = _dumped  # type: ignore[method-assign]
        DynamoDBStreamsHandler.serialized = _dumped  # type: ignore[method-assign]
        _installed = True


# --- Query: only the partition or the index's items -------------------------------------------------


def _scoped_query(query: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(query)
    def scoped(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            index = next(i for i in self.all_indexes() if i.name == index_name)
            keys = {key["KeyType"]: key["AttributeName"] for key in index.schema}
            # (hash attribute, its value, range attribute, comparison, operands)
            _scope.query = ("index", (keys["HASH"], hash_key, keys.get("RANGE"), args[0], args[1]))
        else:
            _scope.query = ("partition", hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _scope.query = None

    return scoped


def _scoped_all_items(all_items: Callable[[Table], list[Any]]) -> Callable[[Table], list[Any]]:
    """Inside a Query, only the candidates it would keep (unsorted: Query sorts them itself)."""

    @functools.wraps(all_items)
    def scoped(self: Table) -> list[Any]:
        scope = getattr(_scope, "query", None)
        if scope is None or not self.range_key_attr:
            return all_items(self)
        kind, what = scope
        if kind == "partition":
            return list(self.items[what].values()) if what in self.items else []
        if kind == "scan":
            return _scan_candidates(self, *what)
        hash_name, hash_value, range_name, comparison, operands = what
        under_key = [item for partition in self.items.values() for item in partition.values()
                     if _in_index(item, hash_name, hash_value, range_name)]
        if range_name is None or not comparison:
            return under_key
        inside = [item for item in under_key if item.attrs[range_name].compare(comparison, operands)]
        outside = [item for item in under_key if not item.attrs[range_name].compare(comparison, operands)]
        # moto ends a page that is exactly full with a LastEvaluatedKey when any candidate follows it,
        # as DynamoDB does: the lowest and the highest key outside the condition keep that answer.
        ends = [min(outside, key=lambda i: i.attrs[range_name]),
                max(outside, key=lambda i: i.attrs[range_name])] if outside else []
        return inside + [item for n, item in enumerate(ends) if item not in ends[:n]]

    return scoped


def _scoped_scan(scan: Callable[..., Any]) -> Callable[..., Any]:
    """A Scan of the table (not of an index, without the legacy ScanFilter) hands moto only the items its
    page can reach: those of its segment after the start key, one more than the limit."""

    @functools.wraps(scan)
    def scoped(self: Table, filters: dict[str, Any], limit: int | None, exclusive_start_key: dict[str, Any] | None,
               filter_expression: Any = None, index_name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if not index_name and not filters:
            _scope.query = ("scan", (kwargs.get("segments", (None, None)), exclusive_start_key, limit))
        try:
            return scan(self, filters, limit, exclusive_start_key, filter_expression, index_name, *args, **kwargs)
        finally:
            _scope.query = None

    return scoped


# Each table's partition keys when last looked at, and each segment's share of them in key order.
_partitions: dict[str, tuple[set[Any], dict[tuple[Any, Any], list[Any]]]] = {}


def _segment_keys(table: Table, segments: tuple[Any, Any]) -> list[Any]:
    """The segment's partition keys in Scan order; worked out again whenever the table's set of keys changes."""
    known, by_segment = _partitions.get(table.name, (set(), {}))
    if table.items.keys() != known:
        known, by_segment = set(table.items), {}
        _partitions[table.name] = (known, by_segment)
    if segments not in by_segment:
        by_segment[segments] = sorted(key for key, partition in table.items.items()
                                      if partition and next(iter(partition.values())).is_within_segment(segments))
    return by_segment[segments]


def _scan_candidates(table: Table, segments: tuple[Any, Any], start: dict[str, Any] | None,
                     limit: int | None) -> list[Any]:
    """In Scan order, the segment's items after the start key: as many as a page of `limit` can look at
    (one more tells moto the page is full), all of them without a limit."""
    keys = _segment_keys(table, segments)
    if start:
        start_hash, start_range = DynamoType(start[table.hash_key_attr]), DynamoType(start[str(table.range_key_attr)])
        keys = keys[bisect.bisect_left(keys, start_hash):]
    candidates: list[Any] = []
    for hash_key in keys:
        partition = table.items.get(hash_key)
        if not partition:
            continue
        ordered = sorted(partition.values(), key=lambda item: item.range_key)
        if start and hash_key == start_hash:
            ordered = [item for item in ordered if start_range < item.range_key]
        candidates += ordered
        if limit is not None and len(candidates) > limit:
            break
    return candidates


def _with_index_counts(describe: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(describe)
    def counted(self: Table, *args: Any, **kwargs: Any) -> dict[str, Any]:
        described = describe(self, *args, **kwargs)
        for index in next(iter(described.values())).get("GlobalSecondaryIndexes", []):
            index["ItemCount"] = len(self.has_idx_items(index["IndexName"]))
        return described

    return counted


def _in_index(item: Any, hash_name: str, hash_value: Any, range_name: str | None) -> bool:
    """The item is in the index (it has the index's keys) under the queried partition key."""
    value = item.attrs.get(hash_name)
    if value is None or (hash_value is not None and value != hash_value):
        return False
    return range_name is None or item.attrs.get(range_name) is not None


# --- TransactWriteItems: a rollback copy of only what the transaction touches ----------------------


def _with_touched_items(transact: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(transact)
    def scoped(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        touched: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
        for entry in transact_items:
            operation = next(iter(entry.values()))
            table = self.tables.get(operation.get("TableName"))
            key = operation.get("Key") or operation.get("Item")
            if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
                continue
            range_value = key.get(table.range_key_attr) if table.range_key_attr else None
            touched[table.name].append((DynamoType(key[table.hash_key_attr]),
                                        DynamoType(range_value) if range_value else None))
        _scope.touched = touched
        streams = [(shard, len(shard.items)) for name in touched
                   if (shard := getattr(self.tables[name], "stream_shard", None)) is not None]
        try:
            transact(self, transact_items)
        except Exception:
            for shard, length in streams:  # the records of a cancelled transaction never happened
                del shard.items[length:]
            raise
        finally:
            _scope.touched = None

    return scoped


TOKEN_SECONDS = 600  # DynamoDB remembers a ClientRequestToken for ten minutes
_tokens: dict[str, float] = {}  # token -> when it was first applied


def _idempotent(transact: Callable[[DynamoHandler], ActionResult]) -> Callable[[DynamoHandler], ActionResult]:
    @functools.wraps(transact)
    def once(self: DynamoHandler) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        now = time.monotonic()
        with _lock:
            if token and now - _tokens.get(token, -TOKEN_SECONDS) < TOKEN_SECONDS:
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})  # applied already
        result = transact(self)  # a cancelled transaction raises: its token is not remembered
        if token:
            with _lock:
                _tokens[token] = now
        return result

    return once


# --- answers written with json.dumps ---------------------------------------------------------------

# Their answers are attribute values, keys and counts: plain JSON but for binary values and stream times.
DUMPED = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                    "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "GetRecords"})


def _dumped(self: BaseResponse, action_result: ActionResult) -> Any:
    """BaseResponse.serialized for the DUMPED operations' answers; anything else (an error, a table's
    description, an answer `json.dumps` cannot write) goes through moto's serializer."""
    action, answer = self._get_action(), action_result.result
    # Only a plain result: a subclass (a paginated one) has its own way of writing itself.
    if action in DUMPED and isinstance(answer, dict) and type(action_result) in (ActionResult, DynamoResult):
        members, content_type = _output_of(self.boto3_service_name, action)
        try:
            body = json.dumps({name: value for name, value in answer.items() if name in members and value is not None},
                              separators=(",", ":"), default=aws_json)
        except TypeError:
            pass
        else:
            return 200, {"Content-Type": content_type, **self.response_headers}, body
    return BaseResponse.serialized(self, action_result)


@functools.cache
def _output_of(service: str, action: str) -> tuple[frozenset[str], str]:
    """The names an operation's answer may hold, and its content type."""
    model = get_service_model(service)
    shape = model.operation_model(action).output_shape
    content_type = f"application/x-amz-json-{model.metadata['jsonVersion']}"
    return frozenset(shape.members if shape is not None else ()), content_type


def aws_json(value: Any) -> Any:
    """For json.dumps(default=...): binary values and times as AWS's JSON protocol writes them (and moto's
    serializer): base64, and seconds since the epoch to the ms."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        seconds = calendar.timegm(value.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(f"{type(value).__name__} is not plain JSON")


def _shallow(model: Any) -> Any:
    """copy.copy without moto's BaseModel.__new__, which keeps every instance alive in a class list."""
    clone = object.__new__(type(model))
    clone.__dict__.update(model.__dict__)
    return clone


def _table_copy(self: Table, memo: dict[int, Any]) -> Table:
    """Inside a transaction: share untouched items and the stream, copy touched items.
    Anywhere else: the ordinary deep copy."""
    touched = getattr(_scope, "touched", None)
    if touched is None or not self.range_key_attr:
        clone: Table = object.__new__(self.__class__)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone
    clone = _shallow(self)
    clone.items = defaultdict(dict, {hash_key: dict(partition) for hash_key, partition in self.items.items()})
    for hash_key, range_key in touched.get(self.name, []):
        item = self.items[hash_key].get(range_key) if hash_key in self.items else None
        if item is not None:
            clone.items[hash_key][range_key] = copy.deepcopy(item)
    return clone  # with the same stream shard: see _with_touched_items


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


class SentEmail(NamedTuple):
    ses_message_id: str
    raw: bytes
    tags: dict[str, str]  # the message tags the sender set (moto itself keeps none)
    configuration_set: str | None = None  # SES publishes events only for an email sent with one


def sent_emails(region: str, since: int = 0) -> list[SentEmail]:
    """What the emulator's SES accepted, from the `since`-th on."""
    from moto.ses.models import ses_backends

    messages = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages[since:]
    return [SentEmail(m.id, m.raw_data.encode("utf-8"), _ses_tags.get(m.id, {}), _ses_configuration_sets.get(m.id))
            for m in messages if hasattr(m, "raw_data")]


def _keeping_tags(send_email: Callable[[Any], str]) -> Callable[[Any], str]:
    """SES events carry the message tags back; moto drops them, so the emulator keeps them here."""

    @functools.wraps(send_email)
    def keeping(self: Any) -> str:
        answer = send_email(self)
        request = json.loads(self.body)
        message_id = json.loads(answer)["MessageId"]
        _ses_tags[message_id] = {tag["Name"]: tag["Value"] for tag in request.get("EmailTags") or []}
        if request.get("ConfigurationSetName"):
            _ses_configuration_sets[message_id] = request["ConfigurationSetName"]
        return answer

    return keeping
