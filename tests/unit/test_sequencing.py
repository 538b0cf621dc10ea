"""Enrollment, advancing, rank switches and stop rules of step emails."""

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from nurture.config import load_config
from nurture.domain.sequencing import (
    LeadFacts,
    advance,
    current_step,
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


def test_stop_rules_end_the_sequence():
    state = update_enrollment(None, WARM, CONFIG, MONDAY)
    handed_off = update_enrollment(state, replace(WARM, stage="handed_off"), CONFIG, MONDAY)
    assert handed_off is not None and handed_off.stopped == "handed_off" and handed_off.next_send_at is None
    unsubscribed = update_enrollment(state, replace(WARM, status="unsubscribed"), CONFIG, MONDAY)
    assert unsubscribed is not None and unsubscribed.stopped == "unsubscribed"
    assert update_enrollment(None, replace(WARM, status="bounced"), CONFIG, MONDAY) is None


def test_finishing_every_step_completes_the_sequence():
    state = update_enrollment(None, LeadFacts(rank="A", stage="handed_off", status="active"), CONFIG, MONDAY)
    assert state is not None and state.sequence == "hot_followup"
    for _ in range(2):
        state = advance(state, CONFIG, WARM, MONDAY)
    assert state.stopped == "completed" and state.next_send_at is None and current_step(state, CONFIG) is None


def test_dormant_leads_go_to_re_engagement():
    state = update_enrollment(None, replace(WARM, dormant_days=120), CONFIG, MONDAY)
    assert state is not None and state.sequence == "reengagement"


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
