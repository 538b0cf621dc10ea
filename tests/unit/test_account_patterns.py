"""Account patterns (issue 24): several people of one company doing something within some days make the account
hot, through the person whose activity completes the pattern, once within those days."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from msgspec.structs import replace
from pydantic import ValidationError

from nurture.config import load_config
from nurture.config.accounts import AccountPattern, AccountScoring
from nurture.config.matching import EventMatch
from nurture.config.records import validated
from nurture.config.scoring import ScoringRules
from nurture.domain.accounts.patterns import AccountState, Touch, fired_through, holds, hot_patterns, tell
from nurture.domain.scoring import ACTIVE_MARK, ScoredEvent, ScoreState, score_lead, with_account_fired
from tests.conftest import CONFIG_DIR

THREE = AccountPattern(id="three_people", people=3, within_days=14, reason="3人が14日以内に活動")
PRICING = AccountPattern(id="buying_group_pricing", when=EventMatch(event="page_view", url="*/pricing*"),
                         roles=["decision_maker", "staff"], within_days=14, reason="決裁者と担当者が料金ページ")
SCORING = AccountScoring(patterns=[THREE, PRICING])


def touch(lead_id: str, day: str, *keys: str, roles: tuple[str, ...] = ()) -> Touch:
    return Touch(lead_id, roles, dict.fromkeys(keys, (day, f"{day}T01:00:00Z")))


def test_the_third_person_within_the_days_fires_the_pattern_through_them():
    state = tell(AccountState(), [touch("a", "2026-12-01", "three_people"), touch("b", "2026-12-05", "three_people")],
                 SCORING, "2026-12-05")
    assert state.fired == {}
    state = tell(state, [touch("c", "2026-12-14", "three_people")], SCORING, "2026-12-14")
    assert state.fired["three_people"].lead_id == "c" and state.fired["three_people"].day == "2026-12-14"
    assert fired_through(state, "c", SCORING, "2026-12-14") == {"three_people": "2026-12-14T01:00:00Z"}
    assert fired_through(state, "a", SCORING, "2026-12-14") == {}


def test_a_person_from_the_first_day_outside_the_window_no_longer_counts():
    state = tell(AccountState(), [touch("a", "2026-12-01", "three_people"), touch("b", "2026-12-05", "three_people")],
                 SCORING, "2026-12-05")
    later = tell(state, [touch("c", "2026-12-15", "three_people")], SCORING, "2026-12-15")  # 12-01 is 15 days back
    assert later.fired == {} and set(later.marks["three_people"]) == {"b", "c"}  # a's mark is dropped


def test_one_person_on_several_days_is_one_person():
    state = AccountState()
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        state = tell(state, [touch("a", day, "three_people")], SCORING, day)
    assert state.fired == {} and state.marks["three_people"] == {"a": {"day": "2026-12-03", "roles": []}}


def test_a_pattern_fires_once_within_its_days_then_again_after_them():
    state = tell(AccountState(), [touch(lead, "2026-12-01", "three_people") for lead in "abc"], SCORING, "2026-12-01")
    assert state.fired["three_people"].lead_id == "c"  # the last of them by time (here: by order within a day)
    again = tell(state, [touch("d", "2026-12-14", "three_people")], SCORING, "2026-12-14")
    assert again.fired == state.fired
    days_later = tell(again, [touch(lead, "2026-12-15", "three_people") for lead in "efg"], SCORING, "2026-12-15")
    assert days_later.fired["three_people"].day == "2026-12-15"


def test_an_account_shows_the_patterns_that_fired_within_their_days_as_what_makes_it_hot():
    state = tell(AccountState(), [touch(lead, "2026-12-01", "three_people") for lead in "abc"], SCORING, "2026-12-01")
    stored = state.to_item()["fired"]
    assert hot_patterns(stored, SCORING, "2026-12-14") == [
        {"id": "three_people", "reason": "3人が14日以内に活動", "fired_on": "2026-12-01", "lead_id": "c"}]
    assert hot_patterns(stored, SCORING, "2026-12-15") == [] and hot_patterns(None, SCORING, "2026-12-15") == []


def test_telling_the_same_activity_again_changes_nothing():
    touches = [touch(lead, "2026-12-01", "three_people") for lead in "abc"]
    state = tell(AccountState(), touches, SCORING, "2026-12-01")
    assert tell(state, touches, SCORING, "2026-12-01") == state
    assert AccountState.from_item(state.to_item()) == state


def test_roles_must_all_be_held_among_the_people_who_did_it():
    staff_only = tell(AccountState(), [touch("a", "2026-12-01", "buying_group_pricing", roles=("staff",)),
                                       touch("b", "2026-12-02", "buying_group_pricing", roles=("staff", "it"))],
                      SCORING, "2026-12-02")
    assert staff_only.fired == {}
    with_executive = tell(staff_only, [touch("c", "2026-12-03", "buying_group_pricing", roles=("decision_maker",))],
                          SCORING, "2026-12-03")
    assert with_executive.fired["buying_group_pricing"].lead_id == "c"
    # One person holding both roles is a buying group of one: enough, as the pattern asks for one person
    assert holds(PRICING, {"x": {"day": "2026-12-03", "roles": ["decision_maker", "staff"]}}, "2026-12-03")


SHIPPED = load_config(CONFIG_DIR).scoring


def rules() -> ScoringRules:
    return dataclasses.replace(SHIPPED, accounts=SCORING)


def event(n: int, at: str, **attributes: str) -> ScoredEvent:
    return ScoredEvent(f"e{n}", datetime.fromisoformat(at), n, {"type": "page_view", **attributes})


def test_a_persons_activity_is_told_to_its_account_once_a_day_per_pattern():
    profile = {"lead_id": "l1", "email": "sato@mirai.co.jp", "company": "ミライ工房", "stage": "nurturing"}
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)
    first = score_lead("l1", profile, "nurturing", ScoreState(), [
        event(1, "2026-12-02T00:00:00+00:00", url="https://x.example/top"),
        event(2, "2026-12-02T01:00:00+00:00", url="https://x.example/pricing"),
        event(3, "2026-12-02T02:00:00+00:00", url="https://x.example/pricing/plans")],
        rules(), now, click_burst_seconds=10, url_groups={})
    assert {key: (day, at[:16]) for key, (day, at) in first.account_marks.items()} == {
        ACTIVE_MARK: ("2026-12-02", "2026-12-02T00:00"), "three_people": ("2026-12-02", "2026-12-02T00:00"),
        "buying_group_pricing": ("2026-12-02", "2026-12-02T01:00")}
    same_day = score_lead("l1", profile, "nurturing", first.state, [
        event(4, "2026-12-02T05:00:00+00:00", url="https://x.example/pricing")], rules(), now,
        click_burst_seconds=10, url_groups={})
    assert same_day.account_marks == {}
    # Days are the configured zone's: 16:00 UTC is the next morning in Tokyo
    next_day = score_lead("l1", profile, "nurturing", same_day.state, [
        event(5, "2026-12-02T16:00:00+00:00", url="https://x.example/blog")], rules(), now,
        click_burst_seconds=10, url_groups={})
    assert set(next_day.account_marks) == {ACTIVE_MARK, "three_people"}


def test_an_account_pattern_hands_its_lead_on_once_and_not_again_in_a_later_cycle():
    profile = {"lead_id": "l1", "email": "sato@mirai.co.jp", "stage": "nurturing"}
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)
    outcome = score_lead("l1", profile, "nurturing", ScoreState(), [event(1, "2026-12-02T00:00:00+00:00")],
                         rules(), now, click_burst_seconds=10, url_groups={})
    assert outcome.handoff is None
    hot = with_account_fired("l1", outcome, profile, {"three_people": "2026-12-02T00:00:00Z"}, now)
    assert hot.handoff is not None and hot.handoff.patterns == ["three_people"] and hot.stage == "handed_off"
    assert with_account_fired("l1", hot, profile, {"three_people": "2026-12-02T00:00:00Z"}, now) == hot
    # Sales sent it back to nurturing after the pattern fired: the firing is not given to it again
    recycled = replace(outcome, state=replace(outcome.state, cycle=1, cycle_started_at="2026-12-02T02:00:00Z"))
    assert with_account_fired("l1", recycled, profile, {"three_people": "2026-12-02T00:00:00Z"}, now) == recycled


def test_a_pending_double_opt_in_lead_tells_its_account_nothing():
    profile = {"lead_id": "l1", "email": "sato@mirai.co.jp", "stage": "nurturing",
               "double_opt_in": {"form_id": "news", "requested_at": "2026-12-02T00:00:00Z"}}
    outcome = score_lead("l1", profile, "nurturing", ScoreState(), [event(1, "2026-12-02T00:00:00+00:00")],
                         rules(), datetime(2026, 12, 2, 3, tzinfo=UTC), click_burst_seconds=10, url_groups={})
    assert outcome.account_marks == {}


@pytest.mark.parametrize(("accounts", "message"), [
    ({"patterns": [{"id": "call_meeting_set", "within_days": 7, "reason": "r"}]}, "rule ids must be unique"),
    ({"patterns": [{"id": "p", "roles": ["cfo"], "within_days": 7, "reason": "r"}]}, "roles not declared"),
    ({"patterns": [{"id": "demo_request_is_hot", "within_days": 7, "reason": "r"}]}, "rule ids must be unique"),
    ({"patterns": [{"id": "p", "within_days": 0, "reason": "r"}]}, "within_days"),
])
def test_account_patterns_that_cannot_work_are_refused_at_load(accounts, message):
    raw = {"half_life_days": 30, "ranks": {"A": {"min_fit": 0, "min_engagement": 50},
                                                                "B": {"min_fit": 0, "min_engagement": 20}},
           "patterns": [{"id": "demo_request_is_hot", "when": {"event": "form_submit"}, "reason": "r"}],
           "accounts": accounts}
    with pytest.raises(ValidationError, match=message):
        validated(ScoringRules, raw)


def test_activity_recorded_late_fires_for_as_long_as_activity_of_today():
    # Three people's forms of a month ago, imported today: the firing holds its days from today
    state = tell(AccountState(), [touch(lead, "2026-11-20", "three_people") for lead in "abc"], SCORING, "2026-11-20")
    assert state.fired["three_people"].day == "2026-11-20"
    late = tell(AccountState(), [touch(lead, "2026-11-20", "three_people") for lead in "abc"], SCORING, "2026-12-05")
    assert late.fired == {} and late.marks == {}  # past the days, they are not three people at work now
    recent = tell(AccountState(), [touch(lead, "2026-12-01", "three_people") for lead in "abc"], SCORING, "2026-12-05")
    assert recent.fired["three_people"].day == "2026-12-05"


def test_a_big_company_keeps_the_latest_marks_and_each_roles_latest_holder():
    touches = [touch(f"p{n:03}", "2026-12-01", "buying_group_pricing", roles=("staff",)) for n in range(80)]
    touches.append(touch("exec", "2026-11-30", "buying_group_pricing", roles=("decision_maker",)))
    state = tell(AccountState(), touches, SCORING, "2026-12-01")
    kept = state.marks["buying_group_pricing"]
    assert len(kept) == 51 and "exec" in kept  # 50 latest, and the only decision-maker
    assert state.fired["buying_group_pricing"].lead_id == "p000"  # the first staff member after the executive


def test_a_rescore_keeps_the_account_patterns_the_lead_was_given_this_cycle():
    from nurture.domain.scoring import rescore_lead

    profile = {"lead_id": "l1", "email": "sato@mirai.co.jp", "stage": "nurturing"}
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)
    events = [event(1, "2026-12-02T00:00:00+00:00")]
    outcome = score_lead("l1", profile, "nurturing", ScoreState(), events, rules(), now, click_burst_seconds=10,
                         url_groups={})
    hot = with_account_fired("l1", outcome, profile, {"three_people": "2026-12-02T00:00:00Z"}, now)
    stored = {**profile, "stage": hot.stage, "scoring": hot.state.to_item()}
    again = rescore_lead("l1", stored, events, rules(), now, click_burst_seconds=10, url_groups={})
    assert again.state.fired == {"three_people": "2026-12-02T00:00:00Z"}
