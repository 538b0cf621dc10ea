"""The emulator's patches keep moto's answers: queries, transactions and their rollback, streams."""

import json
import threading
import time

import boto3
import pytest

from nurture.local import emulator
from nurture.local.resources import LocalResources

pytestmark = pytest.mark.usefixtures("aws")
TABLE = LocalResources().table_name


def put(pk: str, sk: str, **attributes: str) -> None:
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={
        "PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}})


def stream_records() -> list[dict]:
    streams = boto3.client("dynamodbstreams")
    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def test_a_query_reads_its_partition_in_sort_key_order():
    for sk in ("b", "c", "a"):
        put("P#1", sk)
    put("P#2", "a")
    found = boto3.client("dynamodb").query(TableName=TABLE, KeyConditionExpression="PK = :pk",
                                           ExpressionAttributeValues={":pk": {"S": "P#1"}})["Items"]
    assert [i["SK"]["S"] for i in found] == ["a", "b", "c"]


def test_an_index_query_sees_only_items_with_the_index_keys_in_index_order():
    put("P#1", "x", due_pk="DUE#0", due_sk="2026-02")
    put("P#2", "x", due_pk="DUE#0", due_sk="2026-01")
    put("P#3", "x", due_pk="DUE#1", due_sk="2026-01")
    put("P#4", "x", due_pk="DUE#0")  # no sort key of the index: not in it
    found = boto3.client("dynamodb").query(TableName=TABLE, IndexName="due",
                                           KeyConditionExpression="due_pk = :p AND due_sk <= :until",
                                           ExpressionAttributeValues={":p": {"S": "DUE#0"}, ":until": {"S": "2026-9"}})
    assert [i["PK"]["S"] for i in found["Items"]] == ["P#2", "P#1"]


def test_a_cancelled_transaction_leaves_no_write_and_no_stream_record_behind():
    put("P#1", "a", state="before")
    before = len(stream_records())
    dynamodb = boto3.client("dynamodb")
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": {"PK": {"S": "P#1"}, "SK": {"S": "a"}},
                        "UpdateExpression": "SET #s = :after", "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":after": {"S": "after"}}}},
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "P#2"}, "SK": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": {"S": "P#9"}, "SK": {"S": "z"}},
                                "ConditionExpression": "attribute_exists(PK)"}},
        ])
    item = dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "P#1"}, "SK": {"S": "a"}})["Item"]
    assert item["state"] == {"S": "before"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "P#2"}, "SK": {"S": "b"}})
    assert len(stream_records()) == before
    # A transaction that succeeds writes everything, once.
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "P#2"}, "SK": {"S": "b"}}}},
        {"Update": {"TableName": TABLE, "Key": {"PK": {"S": "P#1"}, "SK": {"S": "a"}},
                    "UpdateExpression": "SET #s = :after", "ExpressionAttributeNames": {"#s": "state"},
                    "ExpressionAttributeValues": {":after": {"S": "after"}}}},
    ])
    assert [r["eventName"] for r in stream_records()[before:]] == ["INSERT", "MODIFY"]


def test_a_reader_whose_iterator_spans_a_cancelled_transaction_sees_none_of_it_and_misses_nothing_after():
    """The stream poller takes an iterator, then reads with it: a transaction cancelled in between must not
    show its records to that reader, nor make the next real record reuse a sequence number already read."""
    put("P#1", "a")
    streams, dynamodb = boto3.client("dynamodbstreams"), boto3.client("dynamodb")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    read_through = stream_records()[-1]["dynamodb"]["SequenceNumber"]

    def after(sequence_number: str) -> str:
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], SequenceNumber=sequence_number,
                                          ShardIteratorType="AFTER_SEQUENCE_NUMBER")["ShardIterator"]

    iterator = after(read_through)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "P#2"}, "SK": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": {"S": "P#9"}, "SK": {"S": "z"}},
                                "ConditionExpression": "attribute_exists(PK)"}}])
    assert streams.get_records(ShardIterator=iterator)["Records"] == []

    put("P#3", "c")
    (next_record,) = streams.get_records(ShardIterator=after(read_through))["Records"]
    assert next_record["dynamodb"]["Keys"]["PK"] == {"S": "P#3"}


def test_an_exactly_full_last_page_still_says_where_to_go_on():
    """As DynamoDB (and moto unpatched): Limit reached means a LastEvaluatedKey, then an empty page."""
    for n in range(4):
        put(f"P#{n}", "x", due_pk="DUE#0", due_sk=f"2026-0{n + 1}")
    dynamodb = boto3.client("dynamodb")
    query = {"TableName": TABLE, "IndexName": "due", "Limit": 2, "KeyConditionExpression": "due_pk = :p AND "
             "due_sk <= :until", "ExpressionAttributeValues": {":p": {"S": "DUE#0"}, ":until": {"S": "2026-02~"}}}
    first = dynamodb.query(**query)
    assert [i["PK"]["S"] for i in first["Items"]] == ["P#0", "P#1"] and "LastEvaluatedKey" in first
    rest = dynamodb.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert rest["Items"] == [] and "LastEvaluatedKey" not in rest


def test_a_transaction_repeated_with_its_client_request_token_writes_once():
    # botocore gives every TransactWriteItems a token and its retries repeat it, as DynamoDB expects
    dynamodb = boto3.client("dynamodb")
    add_one = {"Update": {"TableName": TABLE, "Key": {"PK": {"S": "TOKEN#1"}, "SK": {"S": "COUNT"}},
                          "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
    for token in ("first-try", "first-try", "another-request"):
        dynamodb.transact_write_items(TransactItems=[add_one], ClientRequestToken=token)
    item = dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "TOKEN#1"}, "SK": {"S": "COUNT"}})["Item"]
    assert item["n"] == {"N": "2"}  # the retry of the first request wrote nothing; the second request did


def test_writes_made_while_another_transaction_is_cancelled_are_kept():
    """A cancelled transaction restores its rollback copy: a write made meanwhile (another function's,
    on another thread) must not be rolled back with it, nor its stream record lost."""
    put("P#0", "a")
    cancelled = threading.Event()

    def cancel_transactions() -> None:
        dynamodb = boto3.client("dynamodb")
        while not cancelled.is_set():
            with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
                dynamodb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "P#0"}, "SK": {"S": "b"}}}},
                    {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": {"S": "P#9"}, "SK": {"S": "z"}},
                                        "ConditionExpression": "attribute_exists(PK)"}}])
            time.sleep(0.001)  # as a function does between calls: the other thread gets its turn

    before = len(stream_records())
    canceller = threading.Thread(target=cancel_transactions)
    canceller.start()
    try:
        for n in range(300):
            put(f"W#{n}", "x")
    finally:
        cancelled.set()
        canceller.join()
    scanned = boto3.client("dynamodb").scan(TableName=TABLE, FilterExpression="begins_with(PK, :w)",
                                            ExpressionAttributeValues={":w": {"S": "W#"}})["Items"]
    assert len(scanned) == 300
    assert len(stream_records()) - before == 300



def scan_all(start: dict | None = None, **scan: object) -> list[tuple[str, str]]:
    dynamodb, found = boto3.client("dynamodb"), []
    while True:
        page = dynamodb.scan(TableName=TABLE, **scan, **({"ExclusiveStartKey": start} if start else {}))
        found += [(i["PK"]["S"], i["SK"]["S"]) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def test_a_parallel_scan_in_small_pages_reads_each_item_once_in_its_segment_in_key_order():
    written = {(f"P#{n}", f"s{m}") for n in range(40) for m in range(n % 3 + 1)}
    for pk, sk in written:
        put(pk, sk)
    parts = [scan_all(Segment=part, TotalSegments=3, Limit=2) for part in range(3)]
    assert sorted(item for part in parts for item in part) == sorted(written)
    assert all(part and part == sorted(part) for part in parts)
    keys_by_part = [{pk for pk, _ in part} for part in parts]
    assert sum(map(len, keys_by_part)) == 40  # a partition is in one segment only
    # A filtered page still counts what it looked at, and the pages go on to the end.
    profiles = scan_all(Limit=5, FilterExpression="SK = :s", ExpressionAttributeValues={":s": {"S": "s2"}})
    assert sorted(profiles) == sorted(i for i in written if i[1] == "s2")


def test_a_scan_finds_a_partition_written_between_its_pages():
    put("P#1", "a")
    put("P#3", "a")
    first = boto3.client("dynamodb").scan(TableName=TABLE, Limit=1)
    assert [i["PK"]["S"] for i in first["Items"]] == ["P#1"]
    put("P#2", "a")
    put("P#1", "b")
    assert scan_all(first["LastEvaluatedKey"]) == [("P#1", "b"), ("P#2", "a"), ("P#3", "a")]


def test_a_global_index_reports_how_many_items_it_holds():
    put("P#1", "x", rank_pk="RANK#A", rank_sk="1")
    put("P#2", "x", rank_pk="RANK#B", rank_sk="2")
    put("P#3", "x")  # no index keys: not in it
    described = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]
    counts = {index["IndexName"]: index["ItemCount"] for index in described["GlobalSecondaryIndexes"]}
    assert counts == {"by_rank": 2, "due": 0, "by_owner": 0}


def test_item_answers_and_stream_records_are_the_json_motos_serializer_writes(monkeypatch):
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    compared: list[str] = []
    written_by_moto: list[str] = []

    class Moto:  # moto's serializer, noting the answers the emulator left to it
        @staticmethod
        def serialized(handler, action_result):
            written_by_moto.append(handler._get_action())
            return BaseResponse.serialized(handler, action_result)

    monkeypatch.setattr(emulator, "BaseResponse", Moto)

    def both(handler_class):
        dumped = handler_class.serialized

        def serialized(self, action_result):
            fast, moto = dumped(self, action_result), BaseResponse.serialized(self, action_result)
            assert (fast[0], json.loads(fast[2]), fast[1]["Content-Type"]) == (
                moto[0], json.loads(moto[2]), moto[1]["Content-Type"]), self._get_action()
            compared.append(self._get_action())
            return fast

        monkeypatch.setattr(handler_class, "serialized", serialized)

    both(DynamoHandler)
    both(DynamoDBStreamsHandler)
    dynamodb = boto3.client("dynamodb")
    every_type = {"s": {"S": "名前"}, "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}, "ss": {"SS": ["a", "b"]},
                  "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01"]}, "null": {"NULL": True}, "bool": {"BOOL": False},
                  "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "2"}, {"B": b"\x02"}]}}}}
    key = {"PK": {"S": "P#1"}, "SK": {"S": "a"}}
    dynamodb.put_item(TableName=TABLE, Item={**key, **every_type}, ReturnConsumedCapacity="TOTAL")
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "P#1"}, "SK": {"S": "b"}})
    dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "P#0"}, "SK": {"S": "a"}})
    dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [key, {"PK": {"S": "P#9"}, "SK": {"S": "z"}}]}})
    dynamodb.query(TableName=TABLE, KeyConditionExpression="PK = :pk", Limit=1,
                   ExpressionAttributeValues={":pk": {"S": "P#1"}}, ReturnConsumedCapacity="INDEXES")
    dynamodb.scan(TableName=TABLE, ProjectionExpression="PK, m.l[2]", Select="SPECIFIC_ATTRIBUTES")
    dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET n = n + :one",
                         ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW")
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}])
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {
        "PK": {"S": "P#2"}, "SK": {"S": "a"}, "b": {"B": b"\x03"}}}}])
    dynamodb.batch_write_item(RequestItems={TABLE: [{"DeleteRequest": {"Key": {"PK": {"S": "P#2"},
                                                                                "SK": {"S": "a"}}}}]})
    dynamodb.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD")
    assert len(stream_records()) == 6  # the records' binary values and times as moto writes them
    assert not emulator.DUMPED & set(written_by_moto)
    assert set(compared) >= {"PutItem", "GetItem", "BatchGetItem", "Query", "Scan", "UpdateItem",
                             "TransactGetItems", "TransactWriteItems", "BatchWriteItem", "DeleteItem", "GetRecords"}
