"""A campaign's life: draft (only in config) → scheduled → sending → sent, or cancelled at any point.

The runtime state lives in one item per campaign; scheduling puts it on the due index, and the
dispatcher's tick starts it when its time comes: the audience scan's parts fan out, and each member
found becomes one message on the send queue. A campaign with an A/B test stays on the due index while
sending, until its decision time: the tick then picks the winner and starts a second scan for the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Struct
from msgspec.structs import asdict, replace

from nurture.config import NurtureConfig
from nurture.config.campaigns import Campaign, CampaignsConfig
from nurture.domain.campaigns.ab import Decision, variant_in_test
from nurture.domain.clock import iso
from nurture.domain.errors import NurtureError
from nurture.domain.messages import Id, Message

if TYPE_CHECKING:  # the audience worker's: the sender, which reads a campaign's state, does not load the scan
    from nurture.domain.audiences.scan import ScanTask

Status = Literal["draft", "scheduled", "sending", "sent", "cancelled"]
# The states a cancel stops; a sent or cancelled campaign stays as it is.
CANCELLABLE = ("scheduled", "sending")


class CampaignRefused(NurtureError):
    """A lifecycle step that does not apply: unknown campaign, a past time, already scheduled or ended."""


class CampaignState(Struct, frozen=True):
    campaign_id: str
    status: Status
    sends_from: str
    config_version: int
    scheduled_by: str = ""
    scheduled_at: str = ""
    job_id: str = ""
    started_at: str = ""
    cancelled_at: str = ""
    decide_at: str = ""  # an A/B test's: when its winner is picked
    decision: Decision | None = None
    rest_job_id: str = ""  # the scan that sends the winner to the rest

    def to_item(self) -> dict[str, Any]:
        item = {name: value for name, value in asdict(self).items() if value not in ("", None)}
        return {**item, "decision": self.decision.to_item()} if self.decision else item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CampaignState:
        fields = {name: str(item.get(name, "")) for name in cls.__struct_fields__}
        decision = Decision.from_item(item["decision"]) if item.get("decision") else None
        return cls(**{**fields, "config_version": int(item["config_version"]),  # type: ignore[arg-type]
                      "decision": decision})

    @property
    def due_at(self) -> str | None:
        """When the dispatcher next has something to do for it: start it, or pick its test's winner."""
        if self.status == "scheduled":
            return self.sends_from
        if self.status == "sending" and self.decide_at and not self.rest_job_id:
            return self.decide_at
        return None


class CampaignMessage(Message, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A send-queue message: this lead should get this campaign. The sender re-checks everything else."""

    kind: Literal["campaign"] = "campaign"
    campaign_id: Id
    lead_id: Id
    config_version: Annotated[int, msgspec.Meta(ge=1)]


class Held(Struct, frozen=True):
    """A campaign email held for the lead's own send window (`due_sk`: its place on the due index)."""

    message: CampaignMessage
    due_sk: str


def campaign_of(config: CampaignsConfig, campaign_id: str) -> Campaign:
    campaign = config.campaigns.get(campaign_id)
    if campaign is None:
        raise CampaignRefused(f"no campaign '{campaign_id}' (campaigns.yaml has: "
                              f"{', '.join(sorted(config.campaigns)) or 'none'})")
    return campaign


def schedule(config: NurtureConfig, campaign_id: str, current: CampaignState | None, config_version: int,
             by: str, now: datetime) -> CampaignState:
    """The state a `schedule` writes: only a draft is scheduled, and only for a time still to come."""
    campaign = campaign_of(config.campaigns, campaign_id)
    starts = campaign.starts(config.sequences.send_window)
    if current is not None and current.status != "draft":
        raise CampaignRefused(f"campaign '{campaign_id}' is already {current.status}")
    if starts <= now:
        raise CampaignRefused(f"campaign '{campaign_id}' would go out at {starts.isoformat()}, "
                              "which is past: change its send_at or send_on and push")
    return CampaignState(campaign_id, "scheduled", iso(starts), config_version, by, iso(now))


def cancel(current: CampaignState | None, campaign_id: str, now: datetime) -> CampaignState:
    if current is None or current.status not in CANCELLABLE:
        raise CampaignRefused(f"campaign '{campaign_id}' is {current.status if current else 'a draft'}: "
                              "only a scheduled or sending campaign can be cancelled")
    return replace(current, status="cancelled", cancelled_at=iso(now))


def seen_status(state: CampaignState | None, scan_done: Callable[[str], bool]) -> Status:
    """What a marketer is shown: a sending campaign is sent once every scan it needs (an A/B test's second
    too) has handed every member it found to the sender; the sender's counts say what became of them."""
    if state is None:
        return "draft"
    if state.status != "sending" or (state.decide_at and not state.rest_job_id):
        return state.status
    scans = [state.job_id, state.rest_job_id] if state.rest_job_id else [state.job_id]
    return "sent" if all(scan_done(job) for job in scans) else "sending"


def job_id_for(state: CampaignState, phase: str = "") -> str:
    """The audience scan of one scheduling of a campaign (and `phase` of its A/B test): every tick that
    starts it agrees on the id."""
    seed = f"{state.campaign_id}|{state.scheduled_at}" + (f"|{phase}" if phase else "")
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def campaign_message_id(lead_id: str, campaign_id: str) -> str:
    """One message per lead and campaign, whatever redeliveries or re-evaluations: the send marker's id."""
    return hashlib.sha256(f"{lead_id}|campaign|{campaign_id}".encode()).hexdigest()[:24]


class MessageQueue(Protocol):
    def send_batch(self, messages: Sequence[Message]) -> None: ...


class CampaignMembers(Struct, frozen=True):
    """Where a campaign scan's members go: one send-queue message each (see `recipients`)."""

    queue: MessageQueue
    campaign: Campaign

    def found(self, task: ScanTask, lead_ids: list[str]) -> None:
        messages = recipients(task, lead_ids, self.campaign)
        if messages:
            self.queue.send_batch(messages)


def recipients(task: ScanTask, lead_ids: list[str], campaign: Campaign) -> list[CampaignMessage]:
    """The send-queue messages for members a campaign's scan found: all of them, or, in an A/B test, the
    test's share (first scan) or everyone else (the scan after the decision)."""
    test = campaign.ab_test
    if test is not None and task.ab_phase:
        wanted = task.ab_phase == "test"
        lead_ids = [lead for lead in lead_ids if (variant_in_test(lead, task.campaign, test) is not None) == wanted]
    return [CampaignMessage.of(campaign_id=task.campaign, lead_id=lead, config_version=task.config_version)
            for lead in lead_ids]
