"""The dispatcher's part in campaigns: start each scheduled campaign whose time has come, and pick the
winner of each A/B test whose wait is over.

Starting is the audience scan's fan-out: the job and its parts are made, one message per part is queued,
then the campaign is marked sending. Every step is safe to repeat, so a tick that dies half-way is
finished by the next one (same job id; the parts resume where they stand). A decision is written first,
on condition that none exists, and only then does the scan for the rest start: the winner is picked once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config import NurtureConfig
from nurture.config.campaigns import ABTest, Campaign
from nurture.domain.audiences.scan import Jobs, ScanTask, Tasks, start_scan
from nurture.domain.campaigns.ab import decide, variant_step
from nurture.domain.campaigns.lifecycle import (
    CampaignRefused,
    CampaignState,
    Held,
    MessageQueue,
    job_id_for,
)
from nurture.domain.clock import iso
from nurture.domain.errors import NurtureError
from nurture.domain.schedule import next_window_opening

MAX_RELEASED = 500  # held emails queued per tick: a backlog drains over a few ticks


class CampaignStates(Protocol):
    def due(self, until: str) -> list[CampaignState]: ...

    def put(self, state: CampaignState, expected: str | None, undecided: bool = False) -> None: ...

    def counts(self, step: str) -> dict[str, int]: ...

    def held(self, until: str, limit: int) -> list[Held]: ...

    def release(self, held: Held) -> None: ...


class Started(Struct):
    started: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # due, but the send window is shut: started when it opens
    dropped: list[str] = field(default_factory=list)  # no longer in the config version it was scheduled with
    decided: list[str] = field(default_factory=list)  # A/B tests whose winner now goes to the rest
    failed: dict[str, str] = field(default_factory=dict)  # why each could not be advanced: tried again next tick


def start_due_campaigns(states: CampaignStates, jobs: Jobs, tasks: Tasks, config_of: Callable[[int], NurtureConfig],
                        now: datetime) -> Started:
    result = Started()
    for state in states.due(iso(now)):
        try:
            outcome = _advance(state, states, jobs, tasks, config_of, now)
        except NurtureError as error:
            # Its config version cannot be read or validated here, or a store refused: it comes due again next
            # tick, and the other campaigns go on meanwhile.
            result.failed[state.campaign_id] = str(error)
            continue
        if outcome is not None:
            getattr(result, outcome).append(state.campaign_id)
    return result


def _advance(state: CampaignState, states: CampaignStates, jobs: Jobs, tasks: Tasks,
             config_of: Callable[[int], NurtureConfig], now: datetime) -> str | None:
    """One due campaign's next step; the list of `Started` it belongs to, or None (another tick took it)."""
    # The version it was scheduled with: the segment and the template it was checked against.
    config = config_of(state.config_version)
    campaign = config.campaigns.campaigns.get(state.campaign_id)
    if campaign is None:  # version 1 is the deployed layer: a later deploy may have dropped it
        _put(states, replace(state, status="cancelled", cancelled_at=iso(now)), state.status)
        return "dropped"
    if next_window_opening(now, config.sequences.send_window) > now:
        return "waiting"  # started now, every email would be skipped outside_window
    if state.status == "scheduled":
        job_id = _scan(jobs, tasks, state, campaign, "test" if campaign.ab_test is not None else "", now)
        decide_at = iso(now + timedelta(hours=campaign.ab_test.wait_hours)) if campaign.ab_test else ""
        started = _put(states, replace(state, status="sending", job_id=job_id, started_at=iso(now),
                                       decide_at=decide_at), "scheduled")
        return "started" if started else None
    if campaign.ab_test is None:
        return None
    decided = _decided(states, state, campaign.ab_test)
    if decided is None:
        return None
    job_id = _scan(jobs, tasks, decided, campaign, "rest", now)
    return "decided" if _put(states, replace(decided, rest_job_id=job_id), "sending") else None


def release_held(states: CampaignStates, queue: MessageQueue, now: datetime) -> int:
    """Queue the held campaign emails whose lead's window has opened, then take them off the index. A tick that
    dies in between queues them again next time: the sender's marker keeps each lead to one email."""
    held = states.held(iso(now), MAX_RELEASED)
    if held:
        queue.send_batch([entry.message for entry in held])
    for entry in held:
        states.release(entry)
    return len(held)


def _scan(jobs: Jobs, tasks: Tasks, state: CampaignState, campaign: Campaign, phase: Literal["", "test", "rest"],
          now: datetime) -> str:
    first = ScanTask.of(job_id=job_id_for(state, phase), segment=campaign.segment, part=0, parts=1,
                        config_version=state.config_version, campaign=state.campaign_id, ab_phase=phase)
    return start_scan(jobs, tasks, first, "campaign", "dispatcher", now)


def _decided(states: CampaignStates, state: CampaignState, test: ABTest) -> CampaignState | None:
    """The state with its test's decision: an earlier tick's, or picked now and written once."""
    if state.decision is not None:
        return state  # written by a tick that died before the rest's scan began
    counts = [states.counts(variant_step(state.campaign_id, n)) for n in range(len(test.subjects))]
    decided = replace(state, decision=decide(test, [(c.get("sent", 0), c.get("clicked_people", 0)) for c in counts]))
    try:
        states.put(decided, "sending", undecided=True)
    except CampaignRefused:
        return None  # cancelled, or another tick decided first: it starts the rest
    return decided


def _put(states: CampaignStates, state: CampaignState, expected: str) -> bool:
    try:
        states.put(state, expected)
    except CampaignRefused:
        return False  # cancelled meanwhile: the workers and the sender see it and send nothing
    return True
