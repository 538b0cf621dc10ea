"""Poll the table's stream in the emulator and deliver Lambda-shaped records through the stack's filters."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3

from nurture.local.filters import matches
from nurture.local.log import log as logger
from nurture.table import TABLE

Consumer = Callable[[dict[str, Any]], Any]


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda's event source mapping hands it to a function."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        # As DynamoDB Streams publishes them (the emulator says 1.0 and us-east-1).
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


class StreamPoller(threading.Thread):
    def __init__(self, table_name: str, region: str, consumers: dict[str, Consumer], interval: float = 0.25):
        super().__init__(name="stream-poller", daemon=True)
        self._table = table_name
        self._region = region
        self._consumers = consumers
        self._interval = interval
        self._stop = threading.Event()
        self.delivered: dict[str, int] = {f.consumer: 0 for f in TABLE.stream_filters}
        session = boto3.session.Session(region_name=region)
        self._dynamodb = session.client("dynamodb")
        self._streams = session.client("dynamodbstreams")
        self._stream_arn = self._dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        # Start at the newest record: what was restored from --persist is history, not news.
        self._iterators = {
            shard["ShardId"]: self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        }

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll_once()
            except Exception:  # the poller must survive a failing consumer, as Lambda retries it
                logger.exception("stream poll failed")

    def poll_once(self) -> int:
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=100)
            self._iterators[shard_id] = response.get("NextShardIterator")
            records += [lambda_record(r, self._stream_arn, self._region) for r in response.get("Records", [])]
        if records:
            self.deliver(records)
        return len(records)

    def deliver(self, records: list[dict[str, Any]]) -> None:
        for stream_filter in TABLE.stream_filters:
            selected = [record for record in records if matches(stream_filter.pattern, record)]
            if not selected:
                continue
            self.delivered[stream_filter.consumer] += len(selected)
            consumer = self._consumers.get(stream_filter.consumer)
            if consumer is None:
                logger.info("stream records for a consumer that does not exist yet",
                            extra={"consumer": stream_filter.consumer, "records": len(selected)})
                continue
            consumer({"Records": selected})
