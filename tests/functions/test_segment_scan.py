"""Segment scans under moto: parts fan out, hand themselves on before the timeout, and resume after a death
or a redelivery without counting a page twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from nurture import keys
from nurture.adapters.audience_store import DynamoAudienceStore
from nurture.adapters.dynamo import to_item
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.audiences.scan import ScanTask, new_job_id, run_part
from nurture.local.functions import invoke
from nurture.local.queues import sqs_event
from nurture.local.resources import LocalResources
from nurture.settings import marketer_config

RESOURCES = LocalResources()
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
LEADS = 120


def add_leads(count: int) -> int:
    """`count` scored profiles; every third has 1,000 or more employees. Returns how many do."""
    dynamodb = boto3.client("dynamodb")
    big = 0
    for n in range(count):
        lead_id = f"{n:032x}"
        employees = "1,200名" if n % 3 == 0 else "80"
        big += n % 3 == 0
        dynamodb.put_item(TableName=RESOURCES.table_name, Item=to_item({
            "PK": keys.lead_pk(lead_id), "SK": keys.PROFILE, "lead_id": lead_id, "email": f"lead{n}@example.co.jp",
            "employees": employees, "status": "active", "rank": "C", "rank_pk": keys.rank_pk("C"),
            "rank_sk": keys.rank_sk(0, lead_id)}))
    return big


def task(parts: int = 4, sample: int = 0) -> ScanTask:
    return ScanTask.of(job_id=new_job_id(), segment="enterprise", part=0, parts=parts, config_version=1, sample=sample)


class Sent:
    def __init__(self) -> None:
        self.tasks: list[ScanTask] = []

    def send(self, task: ScanTask) -> None:
        self.tasks.append(task)


def scan_everything(first: ScanTask, store: DynamoAudienceStore, time_left: Any = lambda: 60_000,
                    page_size: int = 7) -> Sent:
    queue = Sent()
    queue.tasks = [first.replaced(part=part) for part in range(first.parts)]
    evaluator = SegmentEvaluator(marketer_config().segments, marketer_config().scoring,
                                 marketer_config().subscriptions)
    while queue.tasks:
        run_part(queue.tasks.pop(0), store, queue, evaluator, NOW, time_left, page_size=page_size, reserve_ms=1)
    return queue


@pytest.fixture
def store(aws: None) -> DynamoAudienceStore:
    return DynamoAudienceStore(RESOURCES.table_name)


def test_a_segment_is_counted_exactly_by_parts_that_hand_themselves_on(store: DynamoAudienceStore):
    expected = add_leads(LEADS)
    first = task()
    store.create_job(first, "count", "test", NOW)
    budget = iter([5_000, 0] * 1_000)  # every second page finds its time short: the part goes on in a new message

    scan_everything(first, store, time_left=lambda: next(budget))

    progress = store.progress(first.job_id)
    assert progress is not None and progress.done
    assert (progress.matched, progress.scanned) == (expected, LEADS)
    assert all(part.scanned > 0 for part in progress.parts)  # four workers' worth, not one


def test_a_redelivered_part_and_a_worker_that_died_mid_part_count_no_page_twice(store: DynamoAudienceStore):
    expected = add_leads(LEADS)
    first = task(parts=1)
    store.create_job(first, "count", "test", NOW)
    evaluator = SegmentEvaluator(marketer_config().segments, marketer_config().scoring,
                                 marketer_config().subscriptions)
    died = Sent()
    # The first delivery counts three pages, then its invocation dies: no hand-on message is ever sent.
    pages = iter([5_000, 5_000, 0])
    run_part(first, store, died, evaluator, NOW, lambda: next(pages), page_size=10, reserve_ms=1)
    (handed_on,) = died.tasks  # its time ran short after three pages: the rest was to go on in a new message
    assert handed_on.start is not None and handed_on.replaced(start=None) == first
    # SQS delivers the original message again (its start is the part's beginning), and again after that.
    scan_everything(first, store)
    scan_everything(first, store)

    progress = store.progress(first.job_id)
    assert progress is not None and (progress.matched, progress.scanned, progress.done) == (expected, LEADS, True)


def test_the_audience_function_scans_its_part_from_a_queue_message_and_keeps_a_preview_sample(
        store: DynamoAudienceStore):
    add_leads(30)
    first = task(parts=1, sample=5)
    store.create_job(first, "preview", "test", NOW)
    message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": first.to_json(),
               "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796200000000"},
               "MessageAttributes": {}, "MD5OfBody": "x"}

    response = invoke("audience", sqs_event([message], "arn:aws:sqs:ap-northeast-1:123456789012:a", RESOURCES.region))

    assert response == {"batchItemFailures": []}
    progress = store.progress(first.job_id)
    assert progress is not None and (progress.matched, progress.done) == (10, True)
    assert len(progress.sample(5)) == 5 and all(int(lead, 16) % 3 == 0 for lead in progress.sample(5))


def test_leads_scored_while_the_scan_runs_are_each_counted_once(store: DynamoAudienceStore):
    expected = add_leads(LEADS)
    first = task(parts=1)
    store.create_job(first, "count", "test", NOW)
    dynamodb, read = boto3.client("dynamodb"), store.page

    def page_then_rescore(task: ScanTask, start: str | None, limit: int) -> Any:
        """After each page, every lead is scored again: its rank and its place in the rank index move."""
        found = read(task, start, limit)
        for n in range(LEADS):
            lead_id = f"{n:032x}"
            dynamodb.update_item(TableName=RESOURCES.table_name, Key={"PK": {"S": keys.lead_pk(lead_id)},
                                                                     "SK": {"S": keys.PROFILE}},
                                 UpdateExpression="SET rank_pk = :rank, rank_sk = :sk",
                                 ExpressionAttributeValues={":rank": {"S": keys.rank_pk("B")},
                                                            ":sk": {"S": keys.rank_sk(n % 7 * 10, lead_id)}})
        return found

    store.page = page_then_rescore  # type: ignore[method-assign]
    scan_everything(first, store, page_size=25)

    progress = store.progress(first.job_id)
    assert progress is not None and (progress.matched, progress.scanned, progress.done) == (expected, LEADS, True)
