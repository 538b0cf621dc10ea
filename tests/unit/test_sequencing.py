"""Enrollment, advancing, rank switches and stop rules of step emails."""

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace

from nurture.config import load_config
from nurture.config.sequences import Enrollment
from nurture.domain.clock import iso, parse_iso
from nurture.domain.sequencing import (
    LeadFacts,
    SequenceState,
    advance,
    current_step,
    follow_up,
    is_follow_up_check,
    lead_facts,
    note_engagement,
    note_sent,
    retime,
    skip,
    step_applies,
    update_enrollment,
)
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR).sequences
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)
WARM = LeadFacts(rank="B", stage="nurturing", status="active")
COLD = LeadFacts(rank="C", stage="nurturing", status="active")


def test_a_warm_lead_enrolls_in_its_ranks_sequence_and_is_due_in_the_window():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None and state.sequence == "warm_nurture" and state.step == 0
    assert state.next_send_at == "2026-11-30T01:00:00.000000Z"  # delay 0: now, Monday 10:00 in Tokyo


def test_saturday_enrollment_waits_for_monday_morning():
    saturday = datetime(2026, 11, 28, 22, 0, tzinfo=TOKYO)
    state = update_enrollment(None, WARM, CONFIG, saturday)
    assert state is not None and state.next_send_at == "2026-11-30T00:00:00.000000Z"  # Monday 9:00 JST


def test_advancing_schedules_the_next_step_after_its_delay():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None
    after = advance(state, CONFIG, WARM, MONDAY)
    assert after.step == 1 and after.sent_templates == ("know_how",)
    assert after.next_send_at == "2026-12-04T01:00:00.000000Z"  # case study 4 days later, Friday 10:00


def test_a_conditional_step_is_judged_when_due():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None
    state = advance(advance(state, CONFIG, WARM, MONDAY), CONFIG, WARM, MONDAY)  # know-how, case study
    step = current_step(state, CONFIG)
    assert step is not None and step.id == "seminar_invitation"
    assert not step_applies(step, state)  # the case study was not opened: skip it
    skipped = skip(state, CONFIG, WARM, MONDAY)
    assert current_step(skipped, CONFIG).id == "product_news" and "seminar_invitation" not in skipped.sent_templates
    assert step_applies(step, replace(state, opened_previous=True))


def test_rank_change_switches_sequence_without_resending():
    state = update_enrollment(None, LeadFacts(rank="C", stage="nurturing", status="active"), CONFIG, MONDAY)
    assert state is not None and state.sequence == "cold_nurture"
    state = advance(state, CONFIG, WARM, MONDAY)  # the cold know-how email went out
    switched = update_enrollment(state, WARM, CONFIG, MONDAY)
    assert switched is not None and switched.sequence == "warm_nurture"
    step = current_step(switched, CONFIG)
    assert step is not None and step.template == "case_study"  # know-how already received: skipped


def test_a_customer_who_bought_the_licence_moves_to_the_cross_sell_sequence_whatever_its_rank():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None and state.sequence == "warm_nurture"
    bought = replace(WARM, products=frozenset({"在庫分析ライセンス"}), customer_segment="first_time")
    moved = update_enrollment(state, bought, CONFIG, MONDAY)
    assert moved is not None and moved.sequence == "cross_sell" and current_step(moved, CONFIG).template == \
        "cross_sell_training"
    assert update_enrollment(None, replace(WARM, products=frozenset({"研修"})), CONFIG, MONDAY).sequence == \
        "warm_nurture"  # another product: no customer sequence names it
    stay = dataclasses.replace(CONFIG, on_rank_change="stay")
    assert update_enrollment(state, bought, stay, MONDAY).sequence == "cross_sell"  # buying is no rank change
    # A customer sequence goes on after sales' "won": its stop rules leave out converted
    assert update_enrollment(moved, replace(bought, stage="won"), CONFIG, MONDAY).stopped is None


def test_a_sequence_can_enrol_customers_by_what_customers_like_them_bought_next():
    cross_sell = next(sequence for sequence in CONFIG.sequences if sequence.id == "cross_sell")
    by_next = dataclasses.replace(cross_sell, enroll=Enrollment(next_product=["研修"]))
    config = dataclasses.replace(CONFIG, sequences=[by_next, *(s for s in CONFIG.sequences if s.id != "cross_sell")])
    customer = replace(WARM, products=frozenset({"在庫分析ライセンス"}), customer_segment="steady")

    assert update_enrollment(None, replace(customer, next_product="研修"), config, MONDAY).sequence == "cross_sell"
    assert update_enrollment(None, replace(customer, next_product="保守"), config, MONDAY).sequence == "warm_nurture"
    assert update_enrollment(None, customer, config, MONDAY).sequence == "warm_nurture"  # none worked out yet


@pytest.mark.parametrize(("segment", "sequence", "first_template"), [
    ("first_time", "onboarding", "customer_welcome"), ("loyal", "loyal_thanks", "customer_thanks"),
    ("trendy", "loyal_thanks", "customer_thanks"), ("lapsed_loyal", "win_back", "customer_win_back"),
    ("lapsed_first_time", "win_back", "customer_win_back"), ("steady", "warm_nurture", "know_how")])
def test_the_shipped_customer_sequences_follow_the_customers_cpm_segment(segment, sequence, first_template):
    customer = replace(WARM, products=frozenset({"研修"}), customer_segment=segment)

    state = update_enrollment(update_enrollment(None, WARM, CONFIG, MONDAY), customer, CONFIG, MONDAY)

    assert state is not None and state.sequence == sequence and current_step(state, CONFIG).template == first_template


def test_a_first_time_customer_of_the_licence_is_offered_the_training_before_the_onboarding_emails():
    bought = replace(WARM, products=frozenset({"在庫分析ライセンス"}), customer_segment="first_time")
    state = update_enrollment(None, bought, CONFIG, MONDAY)
    assert state is not None and state.sequence == "cross_sell"

    after = advance(state, CONFIG, bought, MONDAY)  # the training email went out: on to the onboarding at once

    assert after.sequence == "onboarding" and current_step(after, CONFIG).template == "customer_welcome"
    assert after.next_send_at is not None and "cross_sell_training" in after.sent_templates
    # Done with both, the customer goes on with its rank's sequence; nothing it had is sent again
    for _ in range(2):
        after = advance(after, CONFIG, bought, MONDAY)
    assert after.sequence == "warm_nurture" and update_enrollment(after, bought, CONFIG, MONDAY) == after


@pytest.mark.parametrize("stage", ["nurturing", "won"])
def test_a_lapsed_customer_silent_for_months_is_won_back_rather_than_re_engaged(stage):
    lapsed = replace(WARM, stage="nurturing", customer_segment="lapsed_steady", dormant_days=200.0)
    silent_lead = update_enrollment(None, replace(lapsed, customer_segment=None), CONFIG, MONDAY)
    assert silent_lead is not None and silent_lead.sequence == "reengagement"  # the same silence, no purchases
    lapsed = replace(lapsed, stage=stage)

    state = update_enrollment(None, lapsed, CONFIG, MONDAY)

    assert state is not None and state.sequence == "win_back" and state.stopped is None


def test_stop_rules_end_the_sequence():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    handed_off = update_enrollment(state, replace(WARM, stage="handed_off"), CONFIG, MONDAY)
    assert handed_off is not None and handed_off.stopped == "handed_off" and handed_off.next_send_at is None
    unsubscribed = update_enrollment(state, replace(WARM, status="unsubscribed"), CONFIG, MONDAY)
    assert unsubscribed is not None and unsubscribed.stopped == "unsubscribed"
    assert update_enrollment(None, replace(WARM, status="bounced"), CONFIG, MONDAY) is None


def test_a_persons_reply_stops_the_sequence_and_starts_none_where_stop_rules_say_replied_for_a_fortnight():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None
    replied = replace(WARM, replied=True)
    stopped = update_enrollment(state, replied, CONFIG, MONDAY)
    assert stopped is not None and (stopped.stopped, stopped.next_send_at) == ("replied", None)
    # the reply made the lead hot: no other sequence starts while the conversation is sales'
    assert update_enrollment(stopped, replace(replied, rank="A"), CONFIG, MONDAY) == stopped
    assert update_enrollment(None, replace(replied, rank="A"), CONFIG, MONDAY) is None
    # a sequence whose stop rules leave `replied` out goes on
    without = dataclasses.replace(CONFIG, sequences=[
        dataclasses.replace(sequence, stop=[rule for rule in sequence.stop if rule != "replied"])
        for sequence in CONFIG.sequences])
    assert update_enrollment(state, replied, without, MONDAY) == state


def test_a_reply_counts_for_a_fortnight_from_the_scorers_summary():
    profile = {"activity": {"types": {"email_reply": {"n": 1, "last": iso(MONDAY - timedelta(days=13))}}}}
    assert lead_facts(profile, "B", "nurturing", MONDAY).replied
    assert not lead_facts(profile, "B", "nurturing", MONDAY + timedelta(days=2)).replied
    automatic = {"activity": {"types": {"email_auto_reply": {"n": 1, "last": iso(MONDAY)}}}}
    assert not lead_facts(automatic, "B", "nurturing", MONDAY).replied


def test_a_lead_sales_send_back_goes_on_from_the_first_email_it_has_not_had():
    # Given a warm lead that had its first email, then was handed to sales
    state = advance(update_enrollment(None, WARM, CONFIG, MONDAY), CONFIG, WARM, MONDAY)
    handed_off = update_enrollment(state, replace(WARM, stage="handed_off"), CONFIG, MONDAY)
    assert handed_off is not None and handed_off.stopped == "handed_off"
    # When sales send it back weeks later, still warm
    later = MONDAY + timedelta(days=21)
    resumed = update_enrollment(handed_off, replace(WARM, stage="recycled"), CONFIG, later)
    # Then the sequence goes on with the next email, that step's delay after the return
    assert resumed is not None and resumed.sequence == "warm_nurture" and resumed.stopped is None
    step = current_step(resumed, CONFIG)
    assert step is not None and step.template == "case_study" and resumed.sent_templates == ("know_how",)
    assert resumed.next_send_at is not None and parse_iso(resumed.next_send_at) >= later + timedelta(days=4)


def test_only_a_lead_sales_send_back_resumes_a_sequence_its_handoff_stopped():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    handed_off = update_enrollment(state, replace(WARM, stage="handed_off"), CONFIG, MONDAY)
    later = MONDAY + timedelta(days=21)
    for facts in (replace(WARM, stage="won"), replace(WARM, stage="accepted"),
                  replace(WARM, stage="recycled", status="unsubscribed")):
        stays = update_enrollment(handed_off, facts, CONFIG, later)
        assert stays is not None and stays.stopped is not None and stays.next_send_at is None, facts


def test_a_lead_sent_back_during_re_engagement_does_not_get_its_emails_again():
    # Given a dormant lead that had the first re-engagement email, then was handed off
    dormant = replace(COLD, dormant_days=120)
    state = update_enrollment(None, dormant, CONFIG, MONDAY)
    assert state is not None and state.sequence == "reengagement"
    state = advance(state, CONFIG, dormant, MONDAY)
    handed_off = update_enrollment(state, replace(dormant, stage="handed_off"), CONFIG, MONDAY)
    assert handed_off is not None and handed_off.stopped == "handed_off"
    # When sales send it back, still dormant
    resumed = update_enrollment(handed_off, replace(dormant, stage="recycled"), CONFIG, MONDAY + timedelta(days=7))
    # Then re-engagement goes on after the email it already had, not from its first email again
    assert resumed is not None and resumed.sequence == "reengagement" and resumed.stopped is None
    assert "reengagement_check" in resumed.sent_templates
    step = current_step(resumed, CONFIG)
    assert step is None or step.template != "reengagement_check"


def test_finishing_every_step_completes_the_sequence_and_plans_a_dormancy_check():
    state = update_enrollment(None, LeadFacts(rank="A", stage="handed_off", status="active"), CONFIG, MONDAY)
    assert state is not None and state.sequence == "hot_followup"
    active = replace(WARM, last_activity_at=MONDAY - timedelta(days=10))
    for _ in range(2):
        state = advance(state, CONFIG, active, MONDAY)
    assert state.stopped == "completed" and current_step(state, CONFIG) is None
    assert is_follow_up_check(state)
    assert state.next_send_at == "2027-02-18T01:00:00.000000Z"  # 90 days after the lead's latest activity


def test_without_a_re_engagement_sequence_a_finished_sequence_plans_nothing():
    config = dataclasses.replace(CONFIG, sequences=[s for s in CONFIG.sequences if s.id != "reengagement"])
    state = update_enrollment(None, WARM, config, MONDAY)
    assert state is not None
    while not state.stopped:
        state = advance(state, config, WARM, MONDAY)
    assert state.stopped == "completed" and state.next_send_at is None


def finished(facts: LeadFacts, at: datetime = MONDAY) -> SequenceState:
    """A lead that went through the whole cold sequence, the last step sent at `at`."""
    state = update_enrollment(None, replace(facts, rank="C"), CONFIG, at)
    assert state is not None
    while not state.stopped:
        state = advance(state, CONFIG, facts, at)
    return state


def test_dormant_leads_go_to_re_engagement():
    state = update_enrollment(None, replace(WARM, dormant_days=120), CONFIG, MONDAY)
    assert state is not None and state.sequence == "reengagement"


def test_a_lead_silent_for_the_dormancy_period_enters_re_engagement_at_its_check():
    state = finished(COLD)
    later = MONDAY + timedelta(days=91)
    reengaged = follow_up(state, CONFIG, replace(COLD, dormant_days=91, last_activity_at=MONDAY), later)
    assert reengaged.sequence == "reengagement" and reengaged.stopped is None
    assert current_step(reengaged, CONFIG).template == "reengagement_check"
    assert reengaged.sent_templates == state.sent_templates  # the history (and the cap) carry over


def test_a_lead_active_since_its_sequence_finished_is_checked_again_later():
    state = finished(COLD)
    active_at = MONDAY + timedelta(days=40)
    later = MONDAY + timedelta(days=90)
    again = follow_up(state, CONFIG, replace(COLD, dormant_days=50, last_activity_at=active_at), later)
    assert again.sequence == "cold_nurture" and again.stopped == "completed"
    assert parse_iso(again.next_send_at) == active_at + timedelta(days=90)


def test_a_lead_silent_through_re_engagement_is_sunset():
    dormant = replace(COLD, dormant_days=91, last_activity_at=MONDAY - timedelta(days=91))
    state = update_enrollment(None, dormant, CONFIG, MONDAY)
    assert state is not None and state.sequence == "reengagement"
    state = advance(state, CONFIG, dormant, MONDAY)  # are you still interested?
    assert current_step(state, CONFIG).id == "last_chance"
    state = advance(state, CONFIG, dormant, MONDAY + timedelta(days=14))  # the last email
    assert is_follow_up_check(state)
    assert parse_iso(state.next_send_at) == (MONDAY + timedelta(days=44)).astimezone(UTC)  # + sunset_after_days
    sunset = follow_up(state, CONFIG, replace(dormant, dormant_days=135), MONDAY + timedelta(days=44))
    assert sunset.stopped == "sunset" and sunset.next_send_at is None
    still = update_enrollment(sunset, replace(dormant, dormant_days=200), CONFIG, MONDAY + timedelta(days=109))
    assert still == sunset  # more silence changes nothing


def test_a_sunset_lead_gets_mail_again_when_it_shows_up():
    sunset = replace(finished(COLD), sequence="reengagement", stopped="sunset", next_send_at=None)
    back = update_enrollment(sunset, replace(COLD, dormant_days=0), CONFIG, MONDAY)
    assert back is not None and back.sequence == "cold_nurture"


def test_a_lead_that_wakes_up_leaves_re_engagement_even_when_ranks_stay():
    config = dataclasses.replace(CONFIG, on_rank_change="stay")
    state = update_enrollment(None, replace(WARM, dormant_days=120), config, MONDAY)
    assert state is not None and state.sequence == "reengagement"
    woken = update_enrollment(state, WARM, config, MONDAY)
    assert woken is not None and woken.sequence == "warm_nurture"


def test_a_second_dormancy_sends_the_re_engagement_emails_again():
    history = replace(finished(COLD), sent_templates=("know_how", "reengagement_check", "reengagement_last"))
    again = update_enrollment(history, replace(COLD, dormant_days=120), CONFIG, MONDAY)
    assert again is not None and again.sequence == "reengagement"
    assert current_step(again, CONFIG).template == "reengagement_check"


def test_a_dormant_lead_that_sales_owns_is_not_re_engaged():
    state = finished(COLD)
    with_sales = replace(COLD, stage="handed_off", dormant_days=120)
    checked = follow_up(state, CONFIG, with_sales, MONDAY + timedelta(days=120))
    assert checked.sequence == "cold_nurture" and checked.next_send_at is None  # no check comes round again


def test_opens_and_clicks_of_the_previous_email_set_the_next_steps_condition():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None
    sent = advance(state, CONFIG, WARM, MONDAY, message_id="m-know-how")
    assert sent.last_message_id == "m-know-how"
    other = note_engagement(sent, [{"type": "email_open", "message_id": "m-older"}])
    assert not other.opened_previous  # an older email's open says nothing about this one
    opened = note_engagement(sent, [{"type": "email_open", "message_id": "m-know-how"}])
    assert opened.opened_previous and not opened.clicked_previous
    clicked = note_engagement(sent, [{"type": "email_click", "message_id": "m-know-how"}])
    assert clicked.opened_previous and clicked.clicked_previous  # images blocked, link clicked: it was read
    assert not advance(clicked, CONFIG, WARM, MONDAY, message_id="m-next").opened_previous


def test_an_email_recorded_after_the_lead_moved_on_still_counts_toward_the_cap():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None and state.next_send_at is not None
    busy = note_sent(note_sent(state, "case_study", MONDAY), "product_news", MONDAY)
    assert busy.sent_templates == ("case_study", "product_news")
    waited = retime(busy, CONFIG, WARM)
    assert waited.next_send_at == "2026-12-07T01:00:00.000000Z"  # two sends on Monday: a week later


def test_an_email_sent_while_the_lead_switched_sequence_is_not_sent_again():
    cold = update_enrollment(None, LeadFacts(rank="C", stage="nurturing", status="active"), CONFIG, MONDAY)
    assert cold is not None and current_step(cold, CONFIG).template == "know_how"
    # The warm know-how email went out while scoring moved the lead to cold nurture, whose first
    # step is the same email: recording it moves the lead past that step.
    recorded = retime(note_sent(cold, "know_how", MONDAY), CONFIG, WARM)
    assert current_step(recorded, CONFIG).template == "whitepaper_announcement"


def test_a_check_never_comes_due_again_at_once():
    # Given re-engagement finished, then the person unsubscribed (activity, and a stop rule on every sequence)
    dormant = replace(COLD, dormant_days=91, last_activity_at=MONDAY - timedelta(days=91))
    state = update_enrollment(None, dormant, CONFIG, MONDAY)
    assert state is not None
    while not state.stopped:
        state = advance(state, CONFIG, dormant, MONDAY)
    check = parse_iso(state.next_send_at)
    active = replace(COLD, dormant_days=28, last_activity_at=check - timedelta(days=28))
    gone = follow_up(state, CONFIG, replace(active, status="unsubscribed"), check)
    assert gone.stopped == "unsubscribed" and gone.next_send_at is None
    # And a lead active since whose rank sequence cannot take it is looked at again later, not now
    handed_off = follow_up(state, CONFIG, replace(active, stage="handed_off"), check)
    assert handed_off.stopped == "handed_off" and handed_off.next_send_at is None
    unknown = follow_up(finished(COLD), CONFIG, replace(COLD, last_activity_at=None), MONDAY + timedelta(days=200))
    assert unknown.next_send_at is not None and parse_iso(unknown.next_send_at) > MONDAY + timedelta(days=200)


def test_an_imported_lead_has_no_activity_until_it_does_something_and_is_checked_from_its_last_email():
    created = MONDAY - timedelta(days=30)
    imported = {"created_at": iso(created), "form_kinds": ["import"]}  # never a form, a visit or a click
    facts = lead_facts(imported, "C", "nurturing", MONDAY)
    assert facts.last_activity_at is None and facts.dormant_days == 30  # silent since it was created
    state = finished(replace(facts, dormant_days=0), at=MONDAY)
    # Ninety days after its last email, not after its creation: the list's date says nothing of the person.
    assert parse_iso(state.next_send_at) == MONDAY + timedelta(days=90)
    active = lead_facts({**imported, "last_activity_at": iso(MONDAY)}, "C", "nurturing", MONDAY + timedelta(days=2))
    assert active.last_activity_at == MONDAY and active.dormant_days == 2


def test_a_reply_in_the_scored_batch_stops_the_sequence_through_the_summary_the_batch_wrote():
    from nurture.domain.score_batch import with_enrollment
    from nurture.domain.scoring import ScoreOutcome, ScoreState

    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    assert state is not None
    profile = {"sequence": state.to_item(), "created_at": iso(MONDAY)}
    outcome = ScoreOutcome(state=ScoreState.from_item(None), fit=0, fit_matches=[], engagement=30.0, rank="B",
                           stage="nurturing", ledger=[], newly_fired=[], handoff=None, applied=1,
                           last_activity_at=iso(MONDAY),
                           activity={"types": {"email_reply": {"n": 1, "last": iso(MONDAY)}}})
    stopped = with_enrollment(outcome, profile, CONFIG, MONDAY, [{"type": "email_reply"}]).sequence
    assert stopped is not None and (stopped.stopped, stopped.next_send_at) == ("replied", None)
    unchanged = replace(outcome, activity={"types": {"email_click": {"n": 1, "last": iso(MONDAY)}}})
    assert with_enrollment(unchanged, profile, CONFIG, MONDAY, [{"type": "email_click"}]).sequence is None
