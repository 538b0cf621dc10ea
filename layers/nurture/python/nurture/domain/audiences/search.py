"""Finding leads from the console: part of a name, company or address (in any case, full-width or half-width)
and filters, matched over every profile by the audience workers as a segment count is (a fan-out job: no
request walks the table). The filters are segment criteria, so they mean what they mean in segments.yaml."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

import msgspec

from nurture.config.segments import Criterion, Stage, Status
from nurture.config.sequences import Rank

SEARCHED_FIELDS = ("name", "company", "email")
Source = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class LeadSearch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the marketer asked for: every given part must hold."""

    text: Annotated[str, msgspec.Meta(max_length=100, description="part of the name, company or email address")] = ""
    rank: Annotated[tuple[Rank, ...], msgspec.Meta(max_length=3)] = ()
    stage: Annotated[tuple[Stage, ...], msgspec.Meta(max_length=5)] = ()
    status: Annotated[tuple[Status, ...], msgspec.Meta(max_length=8)] = ()
    source: Annotated[tuple[Source, ...], msgspec.Meta(max_length=20, description="utm_source of the first touch "
                                                                                   "(an import's list name)")] = ()
    subscribed: bool | None = None
    segment: Annotated[str, msgspec.Meta(max_length=64, description="a segment of the active config")] = ""

    @property
    def empty(self) -> bool:
        return not (folded(self.text) or self.rank or self.stage or self.status or self.source
                    or self.subscribed is not None or self.segment)


def folded(text: str) -> str:
    """As the search compares text: NFKC (full-width Latin and half-width kana as typed most often) and casefolded,
    spaces at the ends dropped."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def search_criteria(search: LeadSearch) -> list[Criterion]:
    """The filters as the segment criteria they are (the text is matched apart)."""
    given: list[Criterion] = []
    if search.rank:
        given.append(Criterion(rank=list(search.rank)))
    if search.stage:
        given.append(Criterion(stage=list(search.stage)))
    if search.status:
        given.append(Criterion(status=list(search.status)))
    if search.source:
        given.append(Criterion(source=list(search.source)))
    if search.subscribed is not None:
        given.append(Criterion(subscribed=search.subscribed))
    if search.segment:
        given.append(Criterion(segment=search.segment))
    return given


def mentions(profile: dict[str, Any], needle: str) -> bool:
    """Whether the folded `needle` is part of the lead's name, company or address."""
    return any(needle in folded(str(profile.get(name) or "")) for name in SEARCHED_FIELDS)
