"""A/B subject tests: who is in the test, and how the winner is judged on people's clicks."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from msgspec.structs import replace

from nurture.config.campaigns import ABTest, Campaign, Subjects
from nurture.domain.audiences.scan import ScanTask
from nurture.domain.campaigns.ab import MIN_SENT, decide, two_proportion_p, variant_in_test
from nurture.domain.campaigns.lifecycle import CampaignState, recipients, seen_status

TWO = ABTest(subjects=[Subjects(ja="A"), Subjects(ja="B")], test_share=20)
THREE = ABTest(subjects=[Subjects(ja="A"), Subjects(ja="B"), Subjects(ja="C")], test_share=30)
LEADS = [f"{n:032x}" for n in range(10_000)]


def test_the_test_takes_its_share_of_the_audience_split_evenly_over_the_variants():
    variants = Counter(variant_in_test(lead, "nl", THREE) for lead in LEADS)
    assert 2_850 < len(LEADS) - variants[None] < 3_150  # 30%
    assert all(950 < variants[n] < 1_050 for n in range(3))


def test_a_lead_is_always_in_the_same_group_of_a_campaign_and_campaigns_draw_apart():
    # The same in every process and release: a campaign whose test is under way never changes a lead's group.
    assert [variant_in_test(lead, "nl", TWO) for lead in LEADS[:12]] == [None, 0, 1, None, None, None, None, None,
                                                                         None, 0, 0, None]
    assert [variant_in_test(lead, "nl", TWO) for lead in LEADS[:200]] != [variant_in_test(lead, "other", TWO)
                                                                       for lead in LEADS[:200]]


def test_the_two_scans_of_a_test_split_the_members_between_them_with_none_left_out_or_in_both():
    campaign = Campaign(name="n", type="newsletter", segment="s", template="t", send_on=date(2027, 1, 13), ab_test=TWO)
    task = ScanTask.of(job_id="0" * 32, segment="s", part=0, parts=1, config_version=3, campaign="nl", ab_phase="test")
    tested = {m.lead_id for m in recipients(task, LEADS[:500], campaign)}
    rest = {m.lead_id for m in recipients(task.replaced(ab_phase="rest"), LEADS[:500], campaign)}
    assert tested.isdisjoint(rest) and tested | rest == set(LEADS[:500])
    assert tested == {lead for lead in LEADS[:500] if variant_in_test(lead, "nl", TWO) is not None}


def test_the_p_value_is_the_pooled_two_proportion_z_tests():
    # 3.0% against 6.0% of 1,000 each: z = 3.24, two-sided p = 0.0012.
    assert two_proportion_p(30, 1_000, 60, 1_000) == pytest.approx(0.00121, rel=0.02)
    assert two_proportion_p(0, 500, 0, 500) == 1.0


def test_a_clearly_better_variant_wins_and_says_why():
    decision = decide(TWO, [(1_000, 30), (1_000, 60)])
    assert (decision.winner, decision.significant) == (1, True)
    assert decision.reason.startswith("variant b has the best click rate (6.0%")


def test_a_difference_chance_explains_sends_the_first_variant_and_says_so():
    decision = decide(TWO, [(1_000, 30), (1_000, 38)])
    assert (decision.winner, decision.significant) == (0, False)
    assert "no variant's click rate is significantly the best" in decision.reason


def test_too_few_sends_are_not_judged():
    decision = decide(TWO, [(MIN_SENT - 1, 0), (500, 100)])
    assert (decision.winner, decision.significant, decision.p_value) == (0, False, None)
    assert "too few sent" in decision.reason


def test_with_more_variants_the_best_must_beat_each_rival_at_the_stricter_level():
    # 5.0% against 3.4%: p ≈ 0.04 — significant for two variants, not with two rivals at 0.025 each.
    assert decide(TWO, [(1_500, 51), (1_500, 75)]).significant
    assert not decide(THREE, [(1_500, 51), (1_500, 75), (1_500, 50)]).significant


def test_a_decision_survives_the_campaign_states_round_trip_through_dynamodb_types():
    from nurture.adapters.dynamo import from_item, to_item

    decision = decide(TWO, [(1_000, 30), (1_000, 60)])
    state = CampaignState("nl", "sending", "2027-01-13T01:00:00.000000Z", 3, decide_at="2027-01-13T05:00:00.000000Z",
                          decision=decision, rest_job_id="f" * 32)
    assert CampaignState.from_item(from_item(to_item(state.to_item()))) == state  # numbers come back as Decimal
    assert state.due_at is None  # the rest is on its way: nothing more for the dispatcher
    assert CampaignState("nl", "sending", "x", 3, decide_at="2027-01-13T05:00:00.000000Z").due_at == \
        "2027-01-13T05:00:00.000000Z"


def test_an_ab_campaign_is_shown_sent_only_once_its_second_scan_has_handed_on_everyone():
    started = CampaignState("nl", "sending", "2027-01-13T01:00:00.000000Z", 3, job_id="t" * 32,
                            decide_at="2027-01-13T05:00:00.000000Z")
    test_scan_done = {"t" * 32}.__contains__
    assert seen_status(started, test_scan_done) == "sending"  # the test's share is out; the rest waits
    decided = replace(started, decision=decide(TWO, [(1_000, 30), (1_000, 60)]), rest_job_id="r" * 32)
    assert seen_status(decided, test_scan_done) == "sending"
    assert seen_status(decided, {"t" * 32, "r" * 32}.__contains__) == "sent"
    assert seen_status(None, test_scan_done) == "draft"
    assert seen_status(replace(decided, status="cancelled"), {"t" * 32, "r" * 32}.__contains__) == "cancelled"
