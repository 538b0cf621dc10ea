"""The table's access shared by every adapter: items to and from DynamoDB's types, conditions and transactions
turned into the domain's errors, update expressions, and `DynamoTable`, the base of the table's adapters.

Apart from `nurture.adapters.lead_store` so that an adapter of campaigns, audits or sends (and the function
that imports it) does not import the lead's whole domain with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from nurture import keys
from nurture.adapters.aws import client
from nurture.domain.activity import Activity
from nurture.domain.errors import StoreUnavailable
from nurture.domain.retry import backoff
from nurture.table import PARTITION_KEY, SORT_KEY, TABLE, GlobalIndex

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
BATCH_WRITE_LIMIT = 25
# Transaction cancellation reasons that mean "another request got there first": retry, don't fail.
_RACES = ("ConditionalCheckFailed", "TransactionConflict")
TRANSACTION_LIMIT = 100
BATCH_GET_LIMIT = 100
BY_RANK, BY_OWNER = (TABLE.index(name) for name in ("by_rank", "by_owner"))


def _storable(value: Any) -> Any:
    """DynamoDB numbers are Decimals: convert floats (exactly as written) wherever they nest."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def to_item(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(_storable(value)) for name, value in attributes.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def projected(names: Sequence[str]) -> dict[str, Any]:
    """A read's ProjectionExpression of plain attribute names, each escaped (some are reserved words)."""
    return {"ProjectionExpression": ", ".join(f"#p{n}" for n in range(len(names))),
            "ExpressionAttributeNames": {f"#p{n}": name for n, name in enumerate(names)}}


def item_key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def unavailable(error: Exception) -> StoreUnavailable:
    """AWS errors become the domain's: the caller decides whether to retry or answer 503."""
    code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
    return StoreUnavailable(f"DynamoDB call failed: {code}")


class ConditionFailed(Exception):
    """A conditional write's condition did not hold. `item`: the item as it was, when it was asked for
    (ReturnValuesOnConditionCheckFailure=ALL_OLD). Adapters turn it into the domain's answer."""

    def __init__(self, item: dict[str, Any] | None):
        super().__init__("the condition did not hold")
        self.item = from_item(item) if item else None


class TransactionCancelled(Exception):
    """TransactWriteItems was cancelled; `reasons` holds one entry per item, in order."""

    def __init__(self, reasons: list[dict[str, Any]]):
        super().__init__("the transaction was cancelled")
        self.reasons = reasons
        self.codes = [reason.get("Code") for reason in reasons]

    def lost_race(self) -> bool:
        """Another writer got there first: read again and retry."""
        return any(code in _RACES for code in self.codes)


def call(dynamodb: Any, operation: str, **kwargs: Any) -> Any:
    """One DynamoDB call. A condition that did not hold raises ConditionFailed or TransactionCancelled;
    every other failure is the domain's StoreUnavailable."""
    try:
        return getattr(dynamodb, operation)(**kwargs)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(error.response.get("Item")) from error
        if code == "TransactionCanceledException":
            raise TransactionCancelled(error.response.get("CancellationReasons", [])) from error
        raise unavailable(error) from error
    except BotoCoreError as error:
        raise unavailable(error) from error


class Update:
    """An UpdateExpression with a placeholder for every attribute name and value."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._clauses: dict[str, list[str]] = {"SET": [], "ADD": [], "REMOVE": []}

    def _name(self, path: str) -> str:
        parts = []
        for part in path.split("."):
            placeholder = f"#n{len(self.names)}"
            self.names[placeholder] = part
            parts.append(placeholder)
        return ".".join(parts)

    def _value(self, typed: dict[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = typed
        return placeholder

    def set(self, path: str, value: Any) -> Update:
        """SET a plain Python value (floats are stored exactly, as Decimals)."""
        self._clauses["SET"].append(f"{self._name(path)} = {self._value(_serializer.serialize(_storable(value)))}")
        return self

    def set_if_absent(self, path: str, value: Any) -> Update:
        """SET unless the attribute is there already."""
        name = self._name(path)
        self._clauses["SET"].append(f"{name} = if_not_exists({name}, "
                                    f"{self._value(_serializer.serialize(_storable(value)))})")
        return self

    def add(self, path: str, typed: dict[str, Any]) -> Update:
        self._clauses["ADD"].append(f"{self._name(path)} {self._value(typed)}")
        return self

    def add_to(self, name: str, typed: dict[str, Any]) -> Update:
        """ADD to a top-level attribute whatever its name holds ("." included: `add` reads a path)."""
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = name
        self._clauses["ADD"].append(f"{placeholder} {self._value(typed)}")
        return self

    def remove(self, path: str) -> Update:
        self._clauses["REMOVE"].append(self._name(path))
        return self

    def arguments(self, condition_values: dict[str, Any] | None = None) -> dict[str, Any]:
        expression = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in self._clauses.items() if parts)
        return {"UpdateExpression": expression, "ExpressionAttributeNames": self.names,
                "ExpressionAttributeValues": {**self.values, **(condition_values or {})}}


class InvalidCursor(ValueError):
    pass


def _is_cursor_of(cursor: dict[str, Any], index: GlobalIndex, partition: str, sort_prefix: str) -> bool:
    """Whether `cursor` is a LastEvaluatedKey of this query of `index`: a forged one could start anywhere."""
    names = {PARTITION_KEY, SORT_KEY, index.partition_key, index.sort_key}
    return (set(cursor) == names
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and 0 < len(v["S"]) <= 1024
                    for v in cursor.values())
            and cursor[index.partition_key]["S"] == partition
            and cursor[index.sort_key]["S"].startswith(sort_prefix))


def score_version_condition(expected_version: int) -> tuple[str, dict[str, Any]]:
    """Only the writer that read this version of a lead's score may write the next one."""
    if expected_version == 0:
        return "attribute_exists(PK) AND attribute_not_exists(scoring)", {}
    return "scoring.version = :expected", {":expected": {"N": str(expected_version)}}


def batch_delete(dynamodb: Any, table: str, keys_to_delete: list[dict[str, Any]]) -> None:
    """BatchWriteItem deletes in chunks of 25, retrying unprocessed ones with backoff. Only erasure and
    `nurture rescore` delete: the functions that write hits and scores hold no BatchWriteItem."""
    for chunk in chunks(keys_to_delete, BATCH_WRITE_LIMIT):
        request: dict[str, Any] = {table: [{"DeleteRequest": {"Key": key}} for key in chunk]}
        for attempt in range(8):
            request = call(dynamodb, "batch_write_item", RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                break
            backoff(attempt)
        else:
            raise StoreUnavailable("DynamoDB kept returning unprocessed items")


class DynamoTable:
    """Base of the table's adapters: the table name and a lazily created, injectable client."""

    def __init__(self, table_name: str, dynamodb: Any | None = None):
        self._table = table_name
        self._client = dynamodb

    @property
    def _ddb(self) -> Any:
        return self._client or client("dynamodb")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return call(self._ddb, operation, **kwargs)

    def _get(self, pk: str, sk: str, projection: str | None = None, consistent: bool = True) -> dict[str, Any] | None:
        """One item, strongly consistent unless told; `projection` names plain attributes only."""
        kwargs: dict[str, Any] = {"TableName": self._table, "ConsistentRead": consistent, "Key": item_key(pk, sk)}
        if projection:
            kwargs |= projected([name.strip() for name in projection.split(",")])
        item = self._call("get_item", **kwargs).get("Item")
        return from_item(item) if item else None

    def profile(self, lead_id: str, projection: str | None = None) -> dict[str, Any] | None:
        return self._get(keys.lead_pk(lead_id), keys.PROFILE, projection)

    def find_lead_id(self, email_key: str) -> str | None:
        """The lead that owns an address (its email claim)."""
        claim = self._get(keys.email_claim_pk(email_key), keys.EMAIL_CLAIM_SK)
        return str(claim["lead_id"]) if claim else None

    def profiles_of(self, lead_ids: list[str], consistent: bool = True,
                    projection: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
        """The profiles of these leads, by lead id (an erased lead's is missing): a BatchGetItem per 100."""
        wanted = [item_key(keys.lead_pk(lead_id), keys.PROFILE) for lead_id in lead_ids]
        found = self._batch_get(wanted, consistent, ("lead_id", *projection) if projection else ())
        return {str(profile["lead_id"]): profile for profile in found}

    def _batch_get(self, wanted: list[dict[str, Any]], consistent: bool = True,
                   projection: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The items of these keys that exist, a BatchGetItem per 100, retrying unprocessed keys with backoff."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            read: dict[str, Any] = {"Keys": wanted[start:start + BATCH_GET_LIMIT], "ConsistentRead": consistent}
            if projection:
                read |= projected(projection)
            request: dict[str, Any] = {self._table: read}
            for attempt in range(8):
                response = self._call("batch_get_item", RequestItems=request)
                found += [from_item(item) for item in response.get("Responses", {}).get(self._table, [])]
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                backoff(attempt)
            else:
                raise StoreUnavailable("DynamoDB kept returning unprocessed keys")
        return found

    def account_standings(self, account_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored standing of these accounts, by the key a profile's `account` holds (what a segment on the
        lead's company reads): one eventually consistent BatchGetItem per 100 accounts."""
        wanted = {keys.account_pk(key): key for key in set(account_keys)}
        found = self._batch_get([item_key(pk, keys.ACCOUNT_STATE_SK) for pk in wanted], consistent=False,
                                projection=keys.ACCOUNT_STANDING_READ)
        return {wanted[str(item["PK"])]: item for item in found}

    def suppressed(self, email_key: str) -> bool:
        return self._get(keys.suppression_pk(email_key), keys.SUPPRESSION_SK, "PK") is not None

    def _activity_item(self, pk: str, activity: Activity) -> dict[str, Any]:
        return to_item({"PK": pk, "SK": keys.event_sk(activity.occurred_at, activity.event_id),
                        **activity.attributes()})

    def _put_new(self, pk: str, sk: str, attributes: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": to_item({"PK": pk, "SK": sk, **attributes}),
                        "ConditionExpression": "attribute_not_exists(PK)"}}

    def _once_marker(self, pk: str, sk: str, activity: Activity) -> dict[str, Any]:
        """A transaction's Put of a marker that `activity` was recorded, new or refused, kept as long as it."""
        return self._put_new(pk, sk, {"event_sk": keys.event_sk(activity.occurred_at, activity.event_id),
                                      "expires_at": activity.expires_at})

    def _query_all(self, pk: str, sk_prefix: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a partition, or those whose sort key starts with `sk_prefix`."""
        values: dict[str, Any] = {":pk": {"S": pk}}
        condition = "PK = :pk"
        if sk_prefix:
            values[":prefix"] = {"S": sk_prefix}
            condition += " AND begins_with(SK, :prefix)"
        yield from self._pages("query", TableName=self._table, KeyConditionExpression=condition,
                               ExpressionAttributeValues=values, ConsistentRead=True)

    def _due(self, partition: str, until: str, limit: int | None = None,
             projection: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The entries of one partition of the sparse `due` index due by `until` (an ISO time), oldest first, at
        most `limit`: reads proportional to what is due, nothing else."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": "due",
            "KeyConditionExpression": "due_pk = :due AND due_sk <= :until",
            # '~' sorts after every character of an id: everything due at or before `until`.
            "ExpressionAttributeValues": {":due": {"S": partition}, ":until": {"S": f"{until}#~"}},
        }
        if limit is not None:
            kwargs["Limit"] = min(limit, 100)
        if projection:
            kwargs |= projected(projection)
        found: list[dict[str, Any]] = []
        for item in self._pages("query", **kwargs):
            found.append(from_item(item))
            if limit is not None and len(found) >= limit:
                break
        return found

    def _index_page(self, index: GlobalIndex, partition: str, sort_prefix: str, limit: int,
                    cursor: dict[str, Any] | None, forward: bool = False
                    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of an index partition's keys (of a sort-key prefix), in the index's order or reversed."""
        if cursor is not None and not _is_cursor_of(cursor, index, partition, sort_prefix):
            raise InvalidCursor("not a cursor of this list")
        condition = f"{index.partition_key} = :partition"
        values = {":partition": {"S": partition}}
        if sort_prefix:
            condition += f" AND begins_with({index.sort_key}, :prefix)"
            values[":prefix"] = {"S": sort_prefix}
        kwargs: dict[str, Any] = {"TableName": self._table, "IndexName": index.name, "ScanIndexForward": forward,
                                  "Limit": limit, "KeyConditionExpression": condition,
                                  "ExpressionAttributeValues": values}
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        page = self._call("query", **kwargs)
        return page.get("Items", []), page.get("LastEvaluatedKey")

    def _pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The items of a query or scan, page after page."""
        while True:
            page = self._call(operation, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
