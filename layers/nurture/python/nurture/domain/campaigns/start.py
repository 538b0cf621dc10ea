"""The dispatcher's part in campaigns: start each scheduled campaign whose time has come.

Starting is the audience scan's fan-out: the job and its parts are made, one message per part is queued,
then the campaign is marked sending. Every step is safe to repeat, so a tick that dies half-way is
finished by the next one (same job id; the parts resume where they stand).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from nurture.config import NurtureConfig
from nurture.domain.audiences.scan import ScanTask, parts_for
from nurture.domain.campaigns.lifecycle import CampaignRefused, CampaignState, job_id_for
from nurture.domain.clock import iso
from nurture.domain.schedule import next_send_time


class CampaignStates(Protocol):
    def due(self, until: str) -> list[CampaignState]: ...

    def put(self, state: CampaignState, expected: str | None) -> None: ...


class Jobs(Protocol):
    def profile_estimate(self) -> int: ...

    def create_job(self, task: ScanTask, purpose: str, created_by: str, now: datetime) -> int: ...


class Tasks(Protocol):
    def send_all(self, tasks: list[ScanTask]) -> None: ...


@dataclass
class Started:
    started: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # due, but the send window is shut: started when it opens
    dropped: list[str] = field(default_factory=list)  # no longer in the config version it was scheduled with


def start_due_campaigns(states: CampaignStates, jobs: Jobs, tasks: Tasks, config_of: Callable[[int], NurtureConfig],
                        now: datetime) -> Started:
    result = Started()
    for state in states.due(iso(now)):
        # The version it was scheduled with: the segment and the template it was checked against.
        config = config_of(state.config_version)
        campaign = config.campaigns.campaigns.get(state.campaign_id)
        if campaign is None:  # version 1 is the deployed layer: a later deploy may have dropped it
            _put(states, replace(state, status="cancelled", cancelled_at=iso(now)), "scheduled")
            result.dropped.append(state.campaign_id)
            continue
        sequences = config.sequences
        if next_send_time(now, sequences.send_window, sequences.frequency_cap, []) > now:
            result.waiting.append(state.campaign_id)  # started now, every email would be skipped outside_window
            continue
        first = ScanTask(job_id=job_id_for(state), segment=campaign.segment, part=0,
                         parts=parts_for(jobs.profile_estimate()), config_version=state.config_version,
                         campaign=state.campaign_id)
        parts = jobs.create_job(first, "campaign", "dispatcher", now)
        tasks.send_all([first.model_copy(update={"part": part, "parts": parts}) for part in range(parts)])
        if _put(states, replace(state, status="sending", job_id=first.job_id, started_at=iso(now)), "scheduled"):
            result.started.append(state.campaign_id)
    return result


def _put(states: CampaignStates, state: CampaignState, expected: str) -> bool:
    try:
        states.put(state, expected)
    except CampaignRefused:
        return False  # cancelled meanwhile: the workers and the sender see it and send nothing
    return True
