"""Evaluating a segment over the whole population: a parallel scan split into parts, each part a chain of
short invocations that resume from the last key they recorded.

A job is created with its parts (DynamoDB's parallel-scan segments); each part is one queue message at a
time. A worker reads a page, evaluates it, and records the page's counts and the key to resume from in one
conditional write on the part: a redelivered message finds the part moved on and resumes from there, so a
page is never counted twice and a worker that dies loses at most the page it was on. When its time runs
short, a worker hands the rest of the part to a new message.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Struct, field

from nurture import keys
from nurture.domain.accounts.standing import with_accounts
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.audiences.search import LeadSearch
from nurture.domain.messages import Message

PROFILES_PER_PART = 10_000  # a part is a few minutes of one worker's pages at most
MAX_PARTS = 1_000
MIN_PARTS = 4  # even a small table is read by several workers at once
PREVIEW_MAX = 100


def parts_for(estimated_profiles: int) -> int:
    """How many parallel-scan segments a job uses for about this many profiles."""
    return max(MIN_PARTS, min(MAX_PARTS, math.ceil(estimated_profiles / PROFILES_PER_PART)))


def new_job_id() -> str:
    return uuid.uuid4().hex


class ScanTask(Message, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One queue message: scan this part of the job, from `start` (a DynamoDB key, JSON) or its beginning."""

    job_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}\Z")]
    segment: str
    part: Annotated[int, msgspec.Meta(ge=0)]
    parts: Annotated[int, msgspec.Meta(ge=1, le=MAX_PARTS)]
    config_version: Annotated[int, msgspec.Meta(
        ge=1, description="the config version the job was made with, for every part")]
    start: str | None = None
    sample: Annotated[int, msgspec.Meta(ge=0, le=PREVIEW_MAX, description="lead ids to keep for a preview")] = 0
    campaign: Annotated[str, msgspec.Meta(description="the campaign whose audience this is: each member found is "
                          "queued for the sender")] = ""
    ab_phase: Annotated[Literal["", "test", "rest"], msgspec.Meta(description="an A/B test's scan: the members in "
                                                  "the test, or the rest once the winner is known")] = ""
    search: Annotated[LeadSearch | None, msgspec.Meta(description="the console's search, matched instead of a "
                                                                 "segment")] = None


class Jobs(Protocol):
    def profile_estimate(self) -> int: ...

    def create_job(self, task: ScanTask, purpose: str, created_by: str, now: datetime) -> int: ...


class Tasks(Protocol):
    def send_all(self, tasks: list[ScanTask]) -> None: ...


def start_scan(jobs: Jobs, tasks: Tasks, first: ScanTask, purpose: str, created_by: str, now: datetime) -> str:
    """A job over every profile: `first`'s fields with as many parts as the population needs, its items made
    before any message names them, then one message per part. Starting it again changes nothing."""
    first = first.replaced(parts=parts_for(jobs.profile_estimate()))
    parts = jobs.create_job(first, purpose, created_by, now)
    tasks.send_all([first.replaced(part=part, parts=parts) for part in range(parts)])
    return first.job_id


class Page(Struct, frozen=True):
    profiles: list[dict[str, Any]]
    next_start: str | None  # None: the part is done


class PartProgress(Struct):
    part: int
    scanned: int = 0
    matched: int = 0
    done: bool = False
    sample: list[str] = field(default_factory=list)
    cursor: str | None = None


class JobProgress(Struct, frozen=True):
    job_id: str
    segment: str
    parts: list[PartProgress]
    campaign: str = ""  # the campaign whose audience it is, if any
    purpose: str = ""  # why it was started: "count", "search", "campaign"...

    @property
    def done(self) -> bool:
        return all(part.done for part in self.parts)

    @property
    def matched(self) -> int:
        return sum(part.matched for part in self.parts)

    @property
    def scanned(self) -> int:
        return sum(part.scanned for part in self.parts)

    def sample(self, limit: int) -> list[str]:
        return sorted(lead for part in self.parts for lead in part.sample)[:limit]


def job_progress(items: list[dict[str, Any]]) -> JobProgress | None:
    """A job's progress from its items (the job, then a PART#<n> item per part); None without the job's own."""
    job = next((item for item in items if item["SK"] == keys.JOB_SK), None)
    if job is None:
        return None
    parts = [PartProgress(part=int(str(item["SK"]).removeprefix(keys.JOB_PART_PREFIX)),
                          scanned=int(item["scanned"]), matched=int(item["matched"]), done=bool(item["done"]),
                          sample=list(item["sample"]), cursor=item["cursor"] or None)
             for item in items if str(item["SK"]).startswith(keys.JOB_PART_PREFIX)]
    return JobProgress(str(job["PK"]).removeprefix(keys.job_pk("")), str(job["segment"]), parts,
                       str(job.get("campaign", "")), str(job.get("purpose", "")))


class PartState(Struct, frozen=True):
    recorded: bool  # the page was counted by this call (False: another delivery had moved the part on)
    cursor: str | None  # where the part stands now
    done: bool


class ScanStore(Protocol):
    def page(self, task: ScanTask, start: str | None, limit: int) -> Page: ...

    def account_standings(self, account_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored standing of these accounts, by account key."""
        ...

    def advance(self, task: ScanTask, start: str | None, page: Page, matched: int, sample: list[str]) -> PartState:
        """Count the page (and keep `sample` lead ids) if the part is still at `start`; either way, where the
        part stands."""
        ...


class TaskQueue(Protocol):
    def send(self, task: ScanTask) -> None: ...


class Members(Protocol):
    """Where a campaign's members go: the send queue, before the page that found them is recorded, so a
    worker that dies in between finds them again (and the sender's marker keeps each lead to one email)."""

    def found(self, task: ScanTask, lead_ids: list[str]) -> None: ...


def lead_id_of(profile: dict[str, Any]) -> str:
    return str(profile["PK"]).removeprefix("LEAD#")


def run_part(task: ScanTask, store: ScanStore, queue: TaskQueue, evaluator: SegmentEvaluator, now: datetime,
             time_left_ms: Callable[[], int], members: Members | None = None, page_size: int = 500,
             reserve_ms: int = 10_000) -> int:
    """Scan `task`'s part page by page while more than `reserve_ms` remain, then hand the rest to a new
    message. Returns the pages this call counted."""
    start, pages, room = task.start, 0, task.sample  # a preview keeps the first few members each delivery finds
    match = evaluator.matcher(task.segment, task.search)
    companies = evaluator.needs_account(task.segment, task.search)
    while True:
        page = store.page(task, start, page_size)
        profiles = page.profiles
        if companies:  # one read of the page's accounts
            profiles = with_accounts(profiles, store.account_standings)
        matched = [lead_id_of(profile) for profile in profiles if match(profile, now)]
        if members is not None and matched:
            members.found(task, matched)
        state = store.advance(task, start, page, len(matched), matched[:room])
        pages += state.recorded
        room -= len(matched[:room]) if state.recorded else 0
        if state.done:
            return pages
        start = state.cursor
        if time_left_ms() < reserve_ms:
            queue.send(task.replaced(start=start))
            return pages
