"""The emulator's patches keep moto's answers: queries, transactions and their rollback, streams."""

import boto3
import pytest

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
