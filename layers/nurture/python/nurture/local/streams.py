"""Poll the table's stream in the emulator and deliver Lambda-shaped records through the stack's filters."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from nurture.local.emulator import aws_json
from nurture.local.filters import matches
from nurture.local.log import log as logger
from nurture.table import TABLE

Consumer = Callable[[dict[str, Any]], Any]
MAX_RETRIES = 3  # the stack's event source mappings retry a few times too, then use their DLQ


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda's event source mapping hands it to a function: in JSON, as the wire
    carries it (boto3 read binary values into bytes and the creation time into a datetime)."""
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        # As DynamoDB Streams publishes them (the emulator says 1.0 and us-east-1).
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": json.loads(json.dumps(record["dynamodb"], default=aws_json)),
        "eventSourceARN": stream_arn,
    }


class StreamPoller:
    """Lambda's event source mapping for the table's stream: read, filter, deliver, retry."""

    def __init__(self, table_name: str, region: str, consumers: Mapping[str, Consumer],
                 on_delivered: Callable[[str], None] | None = None):
        self._table = table_name
        self._region = region
        self._consumers = consumers
        self._on_delivered = on_delivered
        self.delivered: dict[str, int] = {f.consumer: 0 for f in TABLE.stream_filters}
        self.dead_letters: dict[str, list[dict[str, Any]]] = {}
        session = boto3.session.Session(region_name=region)
        self._dynamodb = session.client("dynamodb")
        self._streams = session.client("dynamodbstreams")
        self._stream_arn = self._dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._shards = [shard["ShardId"] for shard in
                        self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]]
        # Where each shard has been read up to. Start after what exists: records restored from
        # --persist are history, not news.
        self._positions: dict[str, str | None] = dict.fromkeys(self._shards)
        for shard in self._shards:
            self._read(shard)

    def poll_once(self) -> int:
        records: list[dict[str, Any]] = []
        for shard in self._shards:
            records += [lambda_record(r, self._stream_arn, self._region) for r in self._read(shard)]
        if records:
            self.deliver(records)
            if self._on_delivered is not None:
                self._on_delivered(records[-1]["dynamodb"]["SequenceNumber"])
        return len(records)

    def _read(self, shard: str) -> list[dict[str, Any]]:
        """Records after the last one read, through a fresh iterator: the position is all the poller keeps."""
        position = self._positions[shard]
        where = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position} if position
                 else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = self._streams.get_shard_iterator(StreamArn=self._stream_arn, ShardId=shard, **where)["ShardIterator"]
        records: list[dict[str, Any]] = self._streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        if records:
            self._positions[shard] = records[-1]["dynamodb"]["SequenceNumber"]
        return records

    def deliver(self, records: list[dict[str, Any]]) -> None:
        for stream_filter in TABLE.stream_filters:
            selected = [record for record in records
                        if any(matches(pattern, record) for pattern in stream_filter.patterns)]
            if not selected:
                continue
            self.delivered[stream_filter.consumer] += len(selected)
            consumer = self._consumers.get(stream_filter.consumer)
            if consumer is None:
                logger.info("stream records for a consumer that does not exist yet",
                            extra={"consumer": stream_filter.consumer, "records": len(selected)})
                continue
            self._deliver_with_retries(stream_filter.consumer, consumer, selected)

    def _deliver_with_retries(self, name: str, consumer: Consumer, records: list[dict[str, Any]]) -> None:
        """As Lambda's event source mapping does with ReportBatchItemFailures: retry from the first
        failed record, a bounded number of times, then hand the rest to the dead-letter list."""
        pending = records
        for _ in range(MAX_RETRIES + 1):
            try:
                response = consumer({"Records": pending})
                failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            except Exception:
                logger.exception("stream consumer raised", extra={"consumer": name})
                failed = {r["dynamodb"]["SequenceNumber"] for r in pending}
            if not failed:
                return
            first = next(i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failed)
            pending = pending[first:]
        logger.error("stream records sent to the dead-letter list", extra={"consumer": name, "records": len(pending)})
        self.dead_letters.setdefault(name, []).extend(pending)
