"""The marketing calendar: month by month, what each rank and each campaign segment receives, and the months
in which one gets nothing (DOMAIN.md: no month without a touchpoint).

Step emails come from driving the sequencing rules forward for a lead of each rank that enrolls on the first
day and never reacts (as the report's touchpoint check does); campaigns from their times. A campaign reaches a
rank unless its segment's criteria rule the rank out (`ranks_of`), and a campaign segment's members also get
the campaigns to segments whose conditions are a part of its own (`within`): criteria are read, not leads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nurture.config.campaigns import CampaignsConfig
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
    return {criterion.model_dump_json(by_alias=True, exclude_none=True, exclude={"description"})}


def within(inner: str, outer: str, segments: SegmentsConfig) -> bool:
    """Whether every member of `inner` is a member of `outer` by their criteria (mailable ⊇ any segment that
    asks for `subscribed` among its conditions): a campaign to `outer` reaches `inner`'s members too."""
    return conjuncts(segments.segments[outer], segments) <= conjuncts(segments.segments[inner], segments)


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def build_calendar(year: int, sequences: SequencesConfig, segments: SegmentsConfig, campaigns: CampaignsConfig,
                   zone: ZoneInfo) -> dict[str, Any]:
    months = [f"{year}-{month:02d}" for month in range(1, 13)]
    start = datetime(year, 1, 1, tzinfo=zone)
    window = sequences.send_window
    in_year = {name: campaign for name, campaign in campaigns.campaigns.items()
               if month_of(campaign.starts(window), zone) in months}
    ranks = []
    for rank in sorted(RANKS):
        facts = LeadFacts(rank=rank, stage="handed_off" if rank == "A" else "nurturing", status="active",
                          last_activity_at=start)
        by_month: dict[str, list[str]] = {month: [] for month in months}
        for at, template in planned_sends(facts, sequences, start, start + timedelta(days=366)) or []:
            if month_of(at, zone) in by_month:
                by_month[month_of(at, zone)].append(f"step: {template}")
        for name, campaign in in_year.items():
            if rank in ranks_of(segments.segments[campaign.segment], segments):
                by_month[month_of(campaign.starts(window), zone)].append(f"campaign: {name}")
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
