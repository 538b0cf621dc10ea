"""Segment scans on DynamoDB: pages of lead profiles from a parallel scan of the table, and each part's
progress, advanced by compare-and-set on its cursor.

The table, not an index: its keys never change, so a scan meets every lead once. An index keyed by the
score (`by_rank`) moves a lead whenever it is scored, so a lead could pass the scan's cursor unseen, or twice.
The scan reads the events beside the profiles too (a filter keeps only profiles): docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from typing import Any

from nurture import keys
from nurture.adapters.dynamo import ConditionFailed, DynamoTable, from_item, item_key, to_item
from nurture.domain.audiences.evaluate import PROFILE_ATTRIBUTES
from nurture.domain.audiences.scan import JobProgress, Page, PartState, ScanTask, job_progress
from nurture.domain.clock import iso

PROFILE_INDEX = "by_rank"  # holds every scored profile once (and each account's standing): its count sizes a job
BEGINNING = ""  # a part's cursor before its first page
JOB_RETENTION = timedelta(days=7)
PART_ATTRIBUTES = ("cursor", "done", "sample", "scanned", "matched")  # CURSOR and SAMPLE are reserved words


class DynamoAudienceStore(DynamoTable):
    def create_job(self, task: ScanTask, purpose: str, created_by: str, now: datetime) -> int:
        """The parts, then the job, before any message names them (a worker finds its part's item). Made once:
        creating it again (a retried start) changes nothing and answers the parts the job already has."""
        expires = int((now + JOB_RETENTION).timestamp())
        job = {"PK": keys.job_pk(task.job_id), "SK": keys.JOB_SK, "segment": task.segment, "parts": task.parts,
               "purpose": purpose, "created_by": created_by, "created_at": iso(now),
               "config_version": task.config_version, "campaign": task.campaign, "expires_at": expires}
        existing = self._get(keys.job_pk(task.job_id), keys.JOB_SK, "parts")
        if existing is not None:  # the job is whole once its item exists: its parts were made first
            return int(existing["parts"])
        for part in range(task.parts):
            with contextlib.suppress(ConditionFailed):  # made by an earlier attempt: it may have moved on
                self._call("put_item", TableName=self._table, ConditionExpression="attribute_not_exists(PK)",
                           Item=to_item({"PK": keys.job_pk(task.job_id), "SK": keys.job_part_sk(part),
                                         "cursor": BEGINNING, "done": False, "scanned": 0, "matched": 0,
                                         "sample": [], "expires_at": expires}))
        with contextlib.suppress(ConditionFailed):
            self._call("put_item", TableName=self._table, Item=to_item(job),
                       ConditionExpression="attribute_not_exists(PK)")
        return task.parts

    def profile_estimate(self) -> int:
        """DynamoDB's count of the profiles (refreshed about every six hours): enough to size a job's parts."""
        table = self._call("describe_table", TableName=self._table)["Table"]
        indexes: list[dict[str, Any]] = table.get("GlobalSecondaryIndexes", [])
        index = next((i for i in indexes if i["IndexName"] == PROFILE_INDEX), {})
        return int(index.get("ItemCount", 0))

    def page(self, task: ScanTask, start: str | None, limit: int) -> Page:
        names = {f"#a{n}": name for n, name in enumerate(("PK", *PROFILE_ATTRIBUTES))}
        kwargs: dict[str, Any] = {"TableName": self._table, "Segment": task.part, "TotalSegments": task.parts,
                                  "Limit": limit, "FilterExpression": "SK = :profile",
                                  "ExpressionAttributeValues": {":profile": {"S": keys.PROFILE}},
                                  "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        if start:
            kwargs["ExclusiveStartKey"] = json.loads(start)
        answer = self._call("scan", **kwargs)
        last = answer.get("LastEvaluatedKey")
        return Page([from_item(item) for item in answer.get("Items", [])],
                    json.dumps(last, sort_keys=True) if last else None)

    def advance(self, task: ScanTask, start: str | None, page: Page, matched: int, sample: list[str]) -> PartState:
        values: dict[str, Any] = {":start": start or BEGINNING, ":next": page.next_start or BEGINNING,
                                  ":done": page.next_start is None, ":scanned": len(page.profiles),
                                  ":matched": matched, ":sample": sample, ":none": []}
        key = item_key(keys.job_pk(task.job_id), keys.job_part_sk(task.part))
        try:
            self._call("update_item", TableName=self._table, Key=key,
                       UpdateExpression="SET #cursor = :next, #done = :done, "
                                        "#sample = list_append(if_not_exists(#sample, :none), :sample) "
                                        "ADD #scanned :scanned, #matched :matched",
                       ConditionExpression="#cursor = :start AND #done = :false",
                       ExpressionAttributeNames={f"#{name}": name for name in PART_ATTRIBUTES},
                       ExpressionAttributeValues=to_item({**values, ":false": False}),
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ConditionFailed as moved:  # another delivery counted this page: carry on from where it left
            current = moved.item or {}
            return PartState(False, current.get("cursor") or None, bool(current.get("done", True)))
        return PartState(True, page.next_start, page.next_start is None)

    def progress(self, job_id: str) -> JobProgress | None:
        return job_progress([from_item(item) for item in self._query_all(keys.job_pk(job_id))])

    def scan_done(self, job_id: str) -> bool:
        """Whether the job has gone through every profile (a campaign's: handed every member to the sender)."""
        return (progress := self.progress(job_id)) is not None and progress.done
