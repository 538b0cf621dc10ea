"""The marketing calendar: month by month, what each rank and each campaign segment receives, and the months
in which one gets nothing (DOMAIN.md: no month without a touchpoint).

Step emails come from driving the sequencing rules forward for a lead of each rank that enrolls on the first
day and never reacts (as the report's touchpoint check does); campaigns from their times. A campaign reaches a
rank unless its segment's criteria rule the rank out (`ranks_of`), and a campaign segment's members also get
the campaigns to segments whose conditions are a part of its own (`within`): criteria are read, not leads.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from msgspec import Struct

from nurture.config.campaigns import CampaignsConfig
from nurture.config.records import dumped
from nurture.config.segments import Criterion, SegmentsConfig
from nurture.config.sequences import SequencesConfig
from nurture.domain.sequencing import LeadFacts, planned_sends

RANKS = frozenset({"A", "B", "C"})


def ranks_of(criterion: Criterion, segments: SegmentsConfig) -> frozenset[str]:
    """The ranks a lead may have and still match: `rank` criteria narrow it, `all` intersects, `any` unites,
    `not` takes away only what a rank criterion under it decides alone; every other criterion leaves it open."""
    if criterion.rank is not None:
        return frozenset(criterion.rank)
    if criterion.segment is not None:
        return ranks_of(segments.segments[criterion.segment], segments)
    if criterion.every is not None:
        return frozenset.intersection(RANKS, *(ranks_of(child, segments) for child in criterion.every))
    if criterion.some is not None:
        return frozenset.union(frozenset(), *(ranks_of(child, segments) for child in criterion.some))
    if criterion.negated is not None and criterion.negated.rank is not None:
        return RANKS - frozenset(criterion.negated.rank)
    return RANKS


def conjuncts(criterion: Criterion, segments: SegmentsConfig) -> set[str]:
    """The conditions a lead must meet, `all` and `segment:` unfolded (each as canonical JSON)."""
    if criterion.segment is not None:
        return conjuncts(segments.segments[criterion.segment], segments)
    if criterion.every is not None:
        return set().union(*(conjuncts(child, segments) for child in criterion.every))
    written = dumped(Criterion, criterion, by_alias=True, exclude_none=True)  # a segment's description left out
    return {json.dumps(written, sort_keys=True, ensure_ascii=False)}


def within(inner: str, outer: str, segments: SegmentsConfig) -> bool:
    """Whether every member of `inner` is a member of `outer` by their criteria (mailable ⊇ any segment that
    asks for `subscribed` among its conditions): a campaign to `outer` reaches `inner`'s members too."""
    return conjuncts(segments.segments[outer], segments) <= conjuncts(segments.segments[inner], segments)


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


class Touchpoint(Struct, frozen=True):
    at: datetime
    kind: Literal["step", "campaign"]
    name: str  # the step's template, or the campaign's id


def rank_touchpoints(rank: str, sequences: SequencesConfig, start: datetime, until: datetime,
                     campaigns: CampaignsConfig | None, segments: SegmentsConfig | None) -> list[Touchpoint] | None:
    """What a lead of `rank` that enrolls at `start` and never reacts receives before `until`, in time order:
    its step emails (the sequence, then re-engagement when it goes dormant) and the campaigns whose segment does
    not rule its rank out. An A lead is handed to sales the moment it becomes A: this is what sales' lead gets.
    None: the sequencing rules enroll no such lead."""
    facts = LeadFacts(rank=rank, stage="handed_off" if rank == "A" else "nurturing", status="active",
                      last_activity_at=start)
    steps = planned_sends(facts, sequences, start, until)
    if steps is None:
        return None
    found = [Touchpoint(at, "step", template) for at, template in steps]
    window = sequences.send_window
    if campaigns is not None and segments is not None:
        found += [Touchpoint(campaign.starts(window), "campaign", name)
                  for name, campaign in campaigns.campaigns.items()
                  if start <= campaign.starts(window) < until
                  and rank in ranks_of(segments.segments[campaign.segment], segments)]
    return sorted(found, key=lambda touchpoint: touchpoint.at)


def build_calendar(year: int, sequences: SequencesConfig, segments: SegmentsConfig, campaigns: CampaignsConfig,
                   zone: ZoneInfo) -> dict[str, Any]:
    months = [f"{year}-{month:02d}" for month in range(1, 13)]
    start, until = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    window = sequences.send_window
    in_year = {name: campaign for name, campaign in campaigns.campaigns.items()
               if month_of(campaign.starts(window), zone) in months}
    ranks = []
    for rank in sorted(RANKS):
        by_month: dict[str, list[str]] = {month: [] for month in months}
        for touchpoint in rank_touchpoints(rank, sequences, start, until, campaigns, segments) or []:
            by_month[month_of(touchpoint.at, zone)].append(f"{touchpoint.kind}: {touchpoint.name}")
        ranks.append({"rank": rank, "months": by_month, "silent": [m for m in months if not by_month[m]]})
    targeted = sorted({campaign.segment for campaign in in_year.values()})
    by_segment = []
    for segment in targeted:
        received = {month: sorted(name for name, campaign in in_year.items()
                                  if within(segment, campaign.segment, segments)
                                  and month_of(campaign.starts(window), zone) == month) for month in months}
        by_segment.append({"segment": segment, "months": received, "silent": [m for m in months if not received[m]]})
    return {"year": year, "months": months, "ranks": ranks, "segments": by_segment,
            "silent_ranks": {row["rank"]: row["silent"] for row in ranks if row["silent"]},
            "silent_segments": {row["segment"]: row["silent"] for row in by_segment if row["silent"]}}
