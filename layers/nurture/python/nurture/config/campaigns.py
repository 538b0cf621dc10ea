"""Campaigns (config/campaigns.yaml): newsletters and planned mails (メルマガ) sent once to a segment."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from nurture.config.models import AwareDatetime, keyed_by_ids
from nurture.config.records import Check, record, setting
from nurture.config.sequences import SendWindow
from nurture.config.subscriptions import SubscriptionsConfig
from nurture.domain.text import InvalidEmail, normalize_email

CAMPAIGN_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SUBJECT_MAX = 120  # characters: a longer subject is cut by every mail client, and long ones read as spam


def _one_line(subject: str | None) -> str | None:
    if subject is not None and re.search(r"[\r\n\t]", subject):
        raise ValueError("a subject is one line")
    return subject


SubjectLine = Annotated[str | None, Check(_one_line)]


@record
class Subjects:
    ja: SubjectLine = setting(default=None, min_length=1, max_length=SUBJECT_MAX)
    en: SubjectLine = setting(default=None, min_length=1, max_length=SUBJECT_MAX)


@record
class ABTest:
    """A subject test: a share of the audience gets the variants, the rest the winner after `wait_hours`."""

    subjects: list[Subjects] = setting(min_length=2, max_length=4, description="the variants, a, b, c, d in order")
    test_share: int = setting(default=20, ge=5, le=50, description="percent of the audience in the test")
    wait_hours: int = setting(default=4, ge=1, le=72, description="from the start to the decision")
    confidence: float = setting(default=0.95, ge=0.8, le=0.99, description="how sure the winner must be")


def _addresses(seeds: list[str]) -> list[str]:
    try:
        return [normalize_email(seed) for seed in seeds]
    except InvalidEmail as error:
        raise ValueError(f"a seed is not an email address ({error})") from error


@record
class Campaign:
    name: str = setting(min_length=1, max_length=200, description="for marketers: the report and the calendar")
    type: str = setting(description="its subscription type (subscriptions.yaml)")
    segment: str = setting(description="who receives it: a segment of segments.yaml")
    template: str = setting(description="a template of templates/ (HTML and text, ja and en)")
    subject: Subjects | None = setting(default=None, description="per language; default: the template's subject")
    send_at: AwareDatetime | None = setting(default=None, description="when it goes out, with its offset: "
                                            "2027-01-13T10:00:00+09:00")
    send_on: date | None = setting(default=None, description="the date it goes out in each lead's own send window")
    ab_test: ABTest | None = setting(default=None, description="subject variants tested on a share first")
    counts_toward_cap: bool = setting(default=False, description="whether it counts in the frequency cap")
    seeds: Annotated[list[str], Check(_addresses)] = setting(
        default_factory=list, max_length=20, description="addresses `nurture campaign test` may send to")

    def __post_init__(self) -> None:
        if (self.send_at is None) == (self.send_on is None):
            raise ValueError("a campaign has either send_at (a moment) or send_on (a date, each lead's own "
                             "send window), not both")
        if self.ab_test is not None and self.subject is not None:
            raise ValueError("a campaign with ab_test takes its subjects from ab_test.subjects, not subject")

    def starts(self, window: SendWindow) -> datetime:
        """When it starts going out: send_at, or on send_on when the send window opens (its own time zone)."""
        if self.send_at is not None:
            return self.send_at
        assert self.send_on is not None
        return datetime.combine(self.send_on, window.start, ZoneInfo(window.timezone))


def _campaign_ids(campaigns: dict[str, Campaign]) -> dict[str, Campaign]:
    return keyed_by_ids(campaigns, CAMPAIGN_ID, "campaign ids are lower-case letters, digits, - and _")


@record
class CampaignsConfig:
    campaigns: Annotated[dict[str, Campaign], Check(_campaign_ids)] = setting(default_factory=dict)


def campaign_problems(campaigns: CampaignsConfig, segments: set[str], templates: set[str],
                      subscriptions: SubscriptionsConfig) -> list[str]:
    """What campaigns.yaml names that the rest of the config lacks."""
    problems: list[str] = []
    for name, campaign in campaigns.campaigns.items():
        problems += subscriptions.unknown(f"campaigns.{name}.type", campaign.type)
        if campaign.segment not in segments:
            problems.append(f"campaigns.{name}.segment: no segment '{campaign.segment}' in segments.yaml")
        if campaign.template not in templates:
            problems.append(f"campaigns.{name}.template: no template '{campaign.template}' in templates/")
    return problems


def campaign_subjects(campaigns: CampaignsConfig) -> list[tuple[str, str]]:
    """Every subject a campaign sets itself, as (location, text): rendered like a template's subject."""
    found: list[tuple[str, str]] = []
    for name, campaign in campaigns.campaigns.items():
        sets = [("subject", campaign.subject)] if campaign.subject else []
        sets += [(f"ab_test.subjects.{n}", subjects) for n, subjects in
                 enumerate(campaign.ab_test.subjects if campaign.ab_test else [])]
        found += [(f"campaigns.{name}.{where}.{language}", text) for where, subjects in sets
                  for language, text in (("ja", subjects.ja), ("en", subjects.en)) if text is not None]
    return found


def past_campaigns(campaigns: CampaignsConfig, window: SendWindow, now: datetime, exempt: set[str]) -> list[str]:
    """Campaigns whose time is past, but for those `exempt` (started, or already published as they are)."""
    return [f"campaigns.{name}: its send time {campaign.starts(window).isoformat()} is in the past"
            for name, campaign in campaigns.campaigns.items()
            if campaign.starts(window) <= now and name not in exempt]


def window_problems(campaigns: CampaignsConfig, window: SendWindow) -> list[str]:
    """Campaigns that would start while the send window is shut: every email would be skipped."""
    from nurture.domain.schedule import next_window_opening

    problems = []
    for name, campaign in campaigns.campaigns.items():
        starts = campaign.starts(window)
        if next_window_opening(starts, window) != starts:
            where = "send_at" if campaign.send_at is not None else "send_on"
            problems.append(f"campaigns.{name}.{where}: {starts.isoformat()} is outside the send window "
                            f"(sequences.yaml: {window.start:%H:%M}–{window.end:%H:%M} {window.timezone}"
                            f"{', business days' if window.business_days_only else ''}): nothing would go out")
    return problems
