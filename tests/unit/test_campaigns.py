"""Campaign definitions, their lifecycle and the sender's last look, without AWS."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import yaml

from nurture.config import load_config
from nurture.config.campaigns import Subjects
from nurture.config.loader import load_config_files, read_config_files
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.campaigns.lifecycle import CampaignRefused, CampaignState, cancel, schedule
from nurture.domain.campaigns.sending import campaign_template, skip_reason
from nurture.domain.errors import ConfigInvalid
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
CAMPAIGN = "newsletter-2027-01"
BEFORE = datetime(2027, 1, 6, 1, 0, tzinfo=UTC)
SENDING = datetime(2027, 1, 13, 1, 5, tzinfo=UTC)  # Wednesday 10:05 in Tokyo
EVALUATOR = SegmentEvaluator(CONFIG.segments, CONFIG.scoring, CONFIG.subscriptions)
READER = {"PK": "LEAD#r", "email": "r@example.co.jp", "status": "active", "consent": {"granted": True}}
TWICE_THIS_WEEK = {"sequence": "cold_nurture", "step": 1, "step_started_at": "2027-01-11T01:00:00.000000Z",
                   "sent_at": ["2027-01-11T01:00:00.000000Z", "2027-01-12T01:00:00.000000Z"]}  # the cap: 2 in 7 days


def with_campaigns(change: dict) -> dict[str, str]:
    files = read_config_files(CONFIG_DIR)
    campaigns = yaml.safe_load(files["campaigns.yaml"])
    campaigns["campaigns"][CAMPAIGN].update(change)
    files["campaigns.yaml"] = yaml.safe_dump(campaigns, allow_unicode=True)
    return files


@pytest.mark.parametrize(("change", "problem"), [
    ({"segment": "nobody"}, "campaigns.newsletter-2027-01.segment: no segment 'nobody' in segments.yaml"),
    ({"template": "missing"}, "campaigns.newsletter-2027-01.template: no template 'missing' in templates/"),
    ({"send_on": "2027-01-13"}, "either send_at (a moment) or send_on"),
    ({"subject": {"ja": "長" * 121}}, "subject.ja: String should have at most 120 characters"),
    ({"subject": {"ja": "一行目\n二行目"}}, "a subject is one line"),
    ({"type": "weekly"}, "campaigns.newsletter-2027-01.type: no subscription type 'weekly' in subscriptions.yaml"),
    ({"seeds": ["not-an-address"]}, "a seed is not an email address"),
    ({"send_at": "2027-01-13T10:00:00"}, "send_at: Input should have timezone info"),
    ({"send_at": "2027-01-13T20:00:00+09:00"}, "newsletter-2027-01.send_at: 2027-01-13T20:00:00+09:00 is outside "
                                               "the send window"),
    ({"ab_test": {"subjects": [{"ja": "A"}]}}, "ab_test.subjects: List should have at least 2 items"),
    ({"ab_test": {"subjects": [{"ja": s} for s in "ABCDE"]}}, "ab_test.subjects: List should have at most 4 items"),
    ({"ab_test": {"subjects": [{"ja": "A"}, {"ja": "B"}], "test_share": 80}}, "ab_test.test_share: Input should be "
                                                                             "less than or equal to 50"),
    ({"ab_test": {"subjects": [{"ja": "A"}, {"ja": "B"}]}, "subject": {"ja": "C"}}, "takes its subjects from "
                                                                                    "ab_test.subjects"),
    ({"ab_test": {"subjects": [{"ja": "A"}, {"ja": "長" * 121}]}}, "ab_test.subjects.1.ja: String should have at "
                                                                  "most 120 characters"),
    ({"send_at": None, "send_on": "2027-01-11"}, "newsletter-2027-01.send_on: 2027-01-11T09:00:00+09:00 is "
                                                 "outside the send window"),  # 成人の日
])
def test_a_broken_campaign_is_refused_with_its_location(change: dict, problem: str):
    with pytest.raises(ConfigInvalid) as refused:
        load_config_files(with_campaigns(change), "config")

    assert any(problem in line and line.startswith("config/campaigns.yaml") for line in refused.value.problems), \
        refused.value.problems


@pytest.mark.parametrize(("change", "problem"), [
    ({"subject": {"ja": "{{ name 様"}}, "campaigns.newsletter-2027-01.subject.ja: expected token"),
    ({"ab_test": {"subjects": [{"ja": "A"}, {"en": "{% if %}B"}]}},
     "campaigns.newsletter-2027-01.ab_test.subjects.1.en: Expected an expression"),
])
def test_a_campaign_subject_that_would_not_render_is_refused_by_config_check(change: dict, problem: str):
    with pytest.raises(ConfigInvalid) as refused:
        load_config_files(with_campaigns(change), "config", check_template_syntax=True)

    assert any(line.startswith("config/campaigns.yaml") and problem in line for line in refused.value.problems), \
        refused.value.problems


def test_the_shipped_plan_has_a_newsletter_every_month_of_2027_inside_the_send_window():
    window = CONFIG.sequences.send_window
    months = {c.starts(window).month for c in CONFIG.campaigns.campaigns.values() if c.type == "newsletter"}
    assert months == set(range(1, 13))
    for campaign in CONFIG.campaigns.campaigns.values():
        if campaign.send_at is not None:
            tokyo = campaign.send_at.astimezone(CONFIG.campaigns.campaigns[CAMPAIGN].send_at.tzinfo)
            assert tokyo.weekday() < 5 and 9 <= tokyo.hour < 18


def test_only_a_draft_with_a_time_ahead_is_scheduled_and_only_a_live_one_cancelled():
    state = schedule(CONFIG, CAMPAIGN, None, 3, "marketing", BEFORE)
    assert (state.status, state.config_version, state.sends_from) == ("scheduled", 3, "2027-01-13T01:00:00.000000Z")
    with pytest.raises(CampaignRefused, match="already scheduled"):
        schedule(CONFIG, CAMPAIGN, state, 3, "marketing", BEFORE)
    with pytest.raises(CampaignRefused, match="which is past"):
        schedule(CONFIG, CAMPAIGN, None, 3, "marketing", SENDING)
    with pytest.raises(CampaignRefused, match="no campaign 'newsletter-2099'"):
        schedule(CONFIG, "newsletter-2099", None, 3, "marketing", BEFORE)
    cancelled = cancel(state, CAMPAIGN, BEFORE)
    assert cancelled.status == "cancelled"
    with pytest.raises(CampaignRefused, match="only a scheduled or sending campaign"):
        cancel(cancelled, CAMPAIGN, BEFORE)
    assert CampaignState.from_item(cancelled.to_item()) == cancelled


def test_a_campaign_subject_replaces_the_templates_in_its_language_only():
    campaign = dataclasses.replace(CONFIG.campaigns.campaigns[CAMPAIGN], subject=None)
    assert campaign_template(campaign, CONFIG.templates) == CONFIG.templates[campaign.template]
    own = dataclasses.replace(campaign, subject=Subjects(ja="【1月号】今年のメルマガ計画"))
    template = campaign_template(own, CONFIG.templates)
    assert template.ja is not None and template.ja.subject == "【1月号】今年のメルマガ計画"
    assert template.en == CONFIG.templates[own.template].en


@pytest.mark.parametrize(("lead", "suppressed", "moment", "reason"), [
    (READER, False, SENDING, None),
    (READER, True, SENDING, "suppressed"),
    ({**READER, "status": "unsubscribed"}, False, SENDING, "unsubscribed"),
    ({**READER, "consent": {}}, False, SENDING, "no_consent"),
    (READER, False, datetime(2027, 1, 13, 10, 0, tzinfo=UTC), "outside_window"),  # 19:00 in Tokyo
    ({**READER, "sequence": TWICE_THIS_WEEK}, False, SENDING, None),  # this campaign does not count in the cap
])
def test_the_senders_last_look_at_a_campaign_email(lead: dict, suppressed: bool, moment: datetime, reason: str | None):
    state = schedule(CONFIG, CAMPAIGN, None, 1, "marketing", BEFORE)
    campaign = CONFIG.campaigns.campaigns[CAMPAIGN]

    assert skip_reason(lead, suppressed, campaign, state, CONFIG, EVALUATOR, moment) == reason


def test_a_campaign_that_counts_in_the_cap_waits_for_no_one_it_is_skipped_as_capped():
    state = schedule(CONFIG, CAMPAIGN, None, 1, "marketing", BEFORE)
    counted = dataclasses.replace(CONFIG.campaigns.campaigns[CAMPAIGN], counts_toward_cap=True)
    twice_this_week = {**READER, "sequence": TWICE_THIS_WEEK}

    assert skip_reason(twice_this_week, False, counted, state, CONFIG, EVALUATOR, SENDING) == "capped"
    assert skip_reason(READER, False, counted, cancel(state, CAMPAIGN, SENDING), CONFIG, EVALUATOR,
                       SENDING) == "cancelled"
