"""The one definition of Nurture's DynamoDB table.

The CDK data construct, the local runtime and the test fixtures all build the table from
`TABLE`, and the stream consumers are attached with the filters defined here, so the three can
never drift apart.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

PARTITION_KEY = "PK"
SORT_KEY = "SK"
TTL_ATTRIBUTE = "expires_at"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


class GlobalIndex(Struct, frozen=True):
    """An index entry is written only when its keys or the attributes it projects change: projecting only what
    readers need keeps a profile update (a score, a visit) from rewriting the entry (issue 20)."""

    name: str
    partition_key: str
    sort_key: str
    include: tuple[str, ...] = ()  # projected beyond the keys (none: KEYS_ONLY)

    @property
    def projection(self) -> dict[str, Any]:
        if not self.include:
            return {"ProjectionType": "KEYS_ONLY"}
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.include)}


class StreamFilter(Struct, frozen=True):
    """A Lambda event source's filters over the table's stream, as the Lambda service applies them: a record that
    matches any of the patterns is delivered."""

    consumer: str
    patterns: tuple[dict[str, Any], ...]


class TableDefinition(Struct, frozen=True):
    partition_key: str = PARTITION_KEY
    sort_key: str = SORT_KEY
    ttl_attribute: str = TTL_ATTRIBUTE
    stream_view_type: str = STREAM_VIEW_TYPE
    global_indexes: tuple[GlobalIndex, ...] = ()
    stream_filters: tuple[StreamFilter, ...] = field(default_factory=tuple)

    def stream_filter(self, consumer: str) -> StreamFilter:
        for stream_filter in self.stream_filters:
            if stream_filter.consumer == consumer:
                return stream_filter
        raise KeyError(consumer)

    def index(self, name: str) -> GlobalIndex:
        return next(index for index in self.global_indexes if index.name == name)

    def string_attributes(self) -> list[str]:
        names = [self.partition_key, self.sort_key]
        for index in self.global_indexes:
            names += [index.partition_key, index.sort_key]
        return list(dict.fromkeys(names))

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for boto3's `create_table` (the local runtime and the test fixtures)."""
        return {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in self.string_attributes()
            ],
            "KeySchema": _key_schema(self.partition_key, self.sort_key),
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.partition_key, index.sort_key),
                    "Projection": index.projection,
                }
                for index in self.global_indexes
            ],
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": self.stream_view_type},
        }


def _key_schema(partition_key: str, sort_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": partition_key, "KeyType": "HASH"},
        {"AttributeName": sort_key, "KeyType": "RANGE"},
    ]


def _new_items_with_keys(pk_prefix: str | None, sk_prefix: str,
                         types: tuple[str, ...] = ()) -> dict[str, Any]:
    keys: dict[str, Any] = {SORT_KEY: {"S": [{"prefix": sk_prefix}]}}
    if pk_prefix is not None:
        keys[PARTITION_KEY] = {"S": [{"prefix": pk_prefix}]}
    images = {"NewImage": {"type": {"S": list(types)}}} if types else {}
    return {"eventName": ["INSERT"], "dynamodb": {"Keys": keys, **images}}


# What sales did to a lead (a verdict, a new owner, a call), which the CRM push publishes (domain.sales.crm).
SALES_ACTIVITIES = ("sales_feedback", "owner_changed", "call_outcome")


TABLE = TableDefinition(
    global_indexes=(
        # Sparse: what is due, by when: leads' step emails (the dispatcher reads the lead and its sequence),
        # unconfirmed sign-ups, held campaign emails (campaign and config version) and campaigns (read from the
        # table: a handful).
        GlobalIndex(name="due", partition_key="due_pk", sort_key="due_sk",
                    include=("lead_id", "sequence", "campaign_id", "config_version")),
        # Sparse: scored leads by rank, highest total first (the sales API's lists, which read the profiles).
        GlobalIndex(name="by_rank", partition_key="rank_pk", sort_key="rank_sk"),
        # Sparse: leads with an owner, by owner and stage (the sales API's "my leads"). Written only when the
        # owner or the stage changes, which a score change never does.
        GlobalIndex(name="by_owner", partition_key="owned_pk", sort_key="owned_sk"),
    ),
    stream_filters=(
        # Only new activity of known leads is scored: anonymous VISITOR# activity waits for its
        # merge, and the scorer's own profile updates must not invoke it again.
        StreamFilter(consumer="scoring", patterns=(_new_items_with_keys("LEAD#", "EVT#"),)),
        # New handoffs for sales tooling and their owners' alerts; sales' own activity for the CRM push.
        StreamFilter(consumer="handoff", patterns=(_new_items_with_keys("LEAD#", "HANDOFF#"),
                                                   _new_items_with_keys("LEAD#", "EVT#", SALES_ACTIVITIES))),
    ),
)
