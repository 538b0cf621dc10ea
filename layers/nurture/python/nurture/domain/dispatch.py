"""The dispatcher's tick: find the leads whose next step email is due and hand each to the sender once.

A claim is a lease: the lead's due entry moves `LEASE` into the future on condition that it is still
the entry we read. Two overlapping ticks therefore never enqueue the same step twice, and a message
lost between claim and send makes the lead due again when the lease runs out. The sender sets the
next step's entry (or removes it) after sending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

import msgspec
from msgspec import Struct, field

from nurture.domain.clock import iso, new_id
from nurture.domain.messages import Id, Message

LEASE = timedelta(minutes=15)
MAX_PER_SHARD = 500  # per tick: a backlog drains over a few ticks instead of timing one out


class DueLead(Struct, frozen=True):
    lead_id: str
    due_sk: str
    sequence: dict[str, Any]


class StepMessage(Message, frozen=True, kw_only=True):
    """The send queue's message: which lead's which step is due. The sender re-reads everything else."""

    lead_id: Id
    sequence: Id
    step: Annotated[int, msgspec.Meta(ge=0)]
    due: str
    claimed_at: str


class DispatchStore(Protocol):
    def sending_paused(self) -> bool: ...

    def due(self, shard: int, until: str, limit: int) -> list[DueLead]: ...

    def claim(self, lead: DueLead, lease_until: str, claimant: str) -> bool: ...


class SendQueue(Protocol):
    def send_batch(self, messages: list[StepMessage]) -> None: ...


class TickResult(Struct):
    due: int = 0
    claimed: int = 0
    lost_races: int = 0
    messages: list[StepMessage] = field(default_factory=list)
    paused: bool = False


def tick(store: DispatchStore, queue: SendQueue, now: datetime, shards: int) -> TickResult:
    result = TickResult()
    if store.sending_paused():
        # The deliverability guard stopped sending: due leads wait, nothing is lost (`nurture sending resume`).
        result.paused = True
        return result
    until = iso(now)
    lease = iso(now + LEASE)
    claimant = new_id()  # this tick: a claim whose answer was lost is still known as ours
    for shard in range(shards):
        for lead in store.due(shard, until, MAX_PER_SHARD):
            result.due += 1
            if not store.claim(lead, lease, claimant):
                result.lost_races += 1  # another tick claimed it first
                continue
            result.claimed += 1
            result.messages.append(StepMessage.of(lead_id=lead.lead_id, sequence=str(lead.sequence["sequence"]),
                                               step=int(lead.sequence["step"]), due=lead.due_sk.split("#")[0],
                                               claimed_at=until))
    if result.messages:
        queue.send_batch(result.messages)
    return result
