"""The dispatcher's part in campaigns: start each scheduled campaign whose time has come.

Starting is the audience scan's fan-out: the job and its parts are made, one message per part is queued,
then the campaign is marked sending. Every step is safe to repeat, so a tick that dies half-way is
finished by the next one (same job id; the parts resume where they stand).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from nurture.config import NurtureConfig
from nurture.domain.audiences.scan import ScanTask, parts_for
from nurture.domain.campaigns.lifecycle import CampaignRefused, CampaignState, job_id_for
from nurture.domain.clock import iso


class CampaignStates(Protocol):
    def due(self, until: str) -> list[CampaignState]: ...

    def put(self, state: CampaignState, expected: str | None) -> None: ...


class Jobs(Protocol):
    def profile_estimate(self) -> int: ...

    def create_job(self, task: ScanTask, purpose: str, created_by: str, now: datetime) -> int: ...


class Tasks(Protocol):
    def send_all(self, tasks: list[ScanTask]) -> None: ...


def start_due_campaigns(states: CampaignStates, jobs: Jobs, tasks: Tasks, config_of: Callable[[int], NurtureConfig],
                        now: datetime) -> list[str]:
    """The campaigns started by this tick."""
    started = []
    for state in states.due(iso(now)):
        # The version it was scheduled with: the segment and the template it was checked against.
        campaign = config_of(state.config_version).campaigns.campaigns[state.campaign_id]
        first = ScanTask(job_id=job_id_for(state), segment=campaign.segment, part=0,
                         parts=parts_for(jobs.profile_estimate()), config_version=state.config_version,
                         campaign=state.campaign_id)
        parts = jobs.create_job(first, "campaign", "dispatcher", now)
        tasks.send_all([first.model_copy(update={"part": part, "parts": parts}) for part in range(parts)])
        try:
            states.put(replace(state, status="sending", job_id=first.job_id, started_at=iso(now)), "scheduled")
        except CampaignRefused:
            continue  # cancelled meanwhile: the workers and the sender see it and send nothing
        started.append(state.campaign_id)
    return started
