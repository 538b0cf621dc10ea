"""The scoring engine: fit, decaying engagement, caps, ranks, patterns and the handoff decision."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from nurture.config import load_config
from nurture.domain.scoring import (
    ScoredEvent,
    ScoreState,
    add_points,
    decayed,
    employee_count,
    fit_matches,
    handoff_id,
    score_lead,
)
from tests.conftest import CONFIG_DIR

RULES = load_config(CONFIG_DIR).scoring
BURST = load_config(CONFIG_DIR).bots.click_burst_seconds
URL_GROUPS = load_config(CONFIG_DIR).segments.url_groups
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday, 10:00 in Tokyo
PROFILE = {"email": "taro@example.co.jp", "title": "情報システム部 部長", "employees": "1,200名",
           "industry": "製造業", "country": "JP"}
_seq = iter(range(1, 10**9))


def event(kind: str, at: datetime, **attributes) -> ScoredEvent:
    number = next(_seq)
    return ScoredEvent(f"e{number}", at, number, {"type": kind, **attributes})


FRESH = ScoreState()


def score(events, state=FRESH, stage="nurturing", profile=PROFILE, now=None):
    return score_lead("lead-1", profile, stage, state, events, RULES, now or max(e.occurred_at for e in events),
                      click_burst_seconds=BURST, url_groups=URL_GROUPS)


def test_fit_counts_the_strongest_title_and_size_once():
    matches = {m.rule_id: m.points for m in fit_matches(PROFILE, RULES)}
    assert matches == {"title_head": 20, "employees_enterprise": 20, "industry_target": 10, "country_japan": 5}


def test_free_mail_and_competitor_domains_count_against_fit():
    matches = {m.rule_id for m in fit_matches({"email": "someone@gmail.com"}, RULES)}
    assert matches == {"free_mail"}
    assert {m.rule_id for m in fit_matches({"email": "x@competitor.example"}, RULES)} == {"competitor"}


@pytest.mark.parametrize(("raw", "count"), [("1,000名", 1000), ("100-499", 100), ("約300人", 300), ("", None)])
def test_employee_counts_are_read_from_what_people_type(raw, count):
    assert employee_count(raw) == count


def test_daily_cap_limits_points_per_rule_per_tokyo_day():
    views = [event("page_view", T0 + timedelta(minutes=n), url=f"https://example.jp/p{n}") for n in range(8)]
    outcome = score(views)
    assert sum(e.delta for e in outcome.ledger if e.rule_id == "page_view") == 5
    next_day = score([event("page_view", T0 + timedelta(days=1), url="https://example.jp/x")], outcome.state)
    assert [e.delta for e in next_day.ledger] == [1]


def test_opens_score_nothing_and_write_no_ledger():
    outcome = score([event("email_open", T0, message_id="m")])
    assert outcome.ledger == [] and outcome.engagement == 0


def click(at: datetime, link: str, message: str = "m1") -> ScoredEvent:
    return event("email_click", at, message_id=message, link=link)


def test_clicks_on_different_links_of_one_message_within_a_second_score_nothing():
    burst = [click(T0 + timedelta(milliseconds=60 * n), f"link{n}") for n in range(5)]
    outcome = score(burst)
    assert outcome.ledger == [] and outcome.engagement == 0
    assert {m.event_id for m in outcome.machine_clicks} == {e.event_id for e in burst}


def test_a_double_click_on_one_link_and_clicks_a_minute_apart_are_a_persons():
    clicks = [click(T0, "cta"), click(T0 + timedelta(milliseconds=200), "cta"),
              click(T0 + timedelta(minutes=1), "guide")]
    outcome = score(clicks)
    assert outcome.machine_clicks == () and sum(e.delta for e in outcome.ledger) == 10  # the daily cap


def test_a_burst_split_across_batches_withdraws_the_first_clicks_points_and_frees_the_cap():
    first = score([click(T0, "cta")])
    assert first.engagement == 5
    rest = score([click(T0 + timedelta(milliseconds=300), "guide")], first.state)
    assert [(e.rule_id, e.delta) for e in rest.ledger] == [("click_burst", -5)]
    assert rest.engagement == pytest.approx(0, abs=1e-9) and len(rest.machine_clicks) == 2
    straggler = score([click(T0 + timedelta(milliseconds=900), "pricing")], rest.state)
    assert straggler.ledger == [] and len(straggler.machine_clicks) == 1  # withdrawn once, marked once
    person = score([click(T0 + timedelta(minutes=5), "cta"), click(T0 + timedelta(minutes=9), "guide")],
                   straggler.state)
    assert sum(e.delta for e in person.ledger) == 10 and person.machine_clicks == ()


def test_a_persons_click_reported_by_ses_and_by_our_link_scores_once_and_is_no_burst():
    # SES tracks the configuration set's emails too: its click leads on to our signed link, milliseconds later
    ses = event("email_click", T0, message_id="m1", url="https://api.example/v1/t/c/token", source="ses")
    ours = click(T0 + timedelta(milliseconds=200), "cta")
    outcome = score([ses, ours])
    assert outcome.machine_clicks == () and [(e.event_id, e.delta) for e in outcome.ledger] == [(ours.event_id, 5)]


def test_the_remembered_clicks_survive_the_stored_form():
    first = score([click(T0, "cta")])
    again = ScoreState.from_item(first.state.to_item())
    assert again == first.state
    assert [e.rule_id for e in score([click(T0 + timedelta(milliseconds=500), "x")], again).ledger] == ["click_burst"]


def test_engagement_halves_after_the_half_life():
    outcome = score([event("form_submit", T0, form_kind="contact")])
    assert outcome.engagement == pytest.approx(30)
    later = score([event("email_open", T0 + timedelta(days=30))], outcome.state)
    assert later.engagement == pytest.approx(15)


def test_replayed_records_never_count_twice():
    submit = event("form_submit", T0, form_kind="seminar")
    first = score([submit])
    again = score([submit], first.state)
    assert again.ledger == [] and again.state == first.state


def test_demo_request_is_hot_at_once_and_hands_off():
    outcome = score([event("form_submit", T0, form_kind="demo_request")])
    assert outcome.newly_fired == ["demo_request_is_hot"]
    assert outcome.handoff is not None and outcome.handoff.patterns == ["demo_request_is_hot"]
    assert outcome.stage == "handed_off"


def test_whitepaper_then_pricing_within_seven_days_fires_once():
    download = event("form_submit", T0, form_kind="download")
    pricing = event("page_view", T0 + timedelta(days=3), url="https://example.jp/pricing")
    outcome = score([download, pricing], profile={"email": "a@gmail.com"})
    assert outcome.newly_fired == ["whitepaper_then_pricing"]
    again = score([event("page_view", T0 + timedelta(days=4), url="https://example.jp/pricing")], outcome.state,
                  stage="handed_off", profile={"email": "a@gmail.com"})
    assert again.newly_fired == [] and again.handoff is None


def test_pricing_too_late_or_before_the_download_does_not_fire():
    late = score([event("form_submit", T0, form_kind="download"),
                  event("page_view", T0 + timedelta(days=8), url="https://example.jp/pricing")])
    assert late.newly_fired == []
    before = score([event("page_view", T0, url="https://example.jp/pricing"),
                    event("form_submit", T0 + timedelta(hours=1), form_kind="download")])
    assert before.newly_fired == []


def test_pattern_steps_arriving_out_of_order_still_fire():
    """The pricing view is scored first; the download that preceded it arrives in a later batch
    (merged visitor history arrives late but is older): the pattern fires then."""
    pricing = event("page_view", T0 + timedelta(days=1), url="https://example.jp/pricing")
    first = score([pricing], now=T0 + timedelta(days=2))
    assert first.newly_fired == []
    download_earlier = event("form_submit", T0, form_kind="download")
    outcome = score([download_earlier], first.state, now=T0 + timedelta(days=2))
    assert outcome.newly_fired == ["whitepaper_then_pricing"]


def test_a_later_download_does_not_hide_an_earlier_one():
    early, late = (event("form_submit", T0 + timedelta(days=d), form_kind="download") for d in (0, 5))
    state = score([late], score([early]).state).state
    pricing_between = event("page_view", T0 + timedelta(days=3), url="https://example.jp/pricing")
    assert score([pricing_between], state).newly_fired == ["whitepaper_then_pricing"]


def test_activity_from_before_a_recycle_does_not_count_in_the_new_cycle():
    recycled = ScoreState(cycle=1, cycle_started_at="2026-11-05T00:00:00.000000Z", as_of="2026-11-05T00:00:00.000000Z")
    late_old_demo = event("form_submit", T0, form_kind="demo_request")  # before the recycle, arriving late
    outcome = score([late_old_demo], recycled, stage="recycled", now=T0 + timedelta(days=4))
    assert outcome.ledger == [] and outcome.handoff is None and outcome.engagement == 0
    assert outcome.state.sequence == late_old_demo.sequence  # applied (as nothing), never again


def test_a_new_stream_starts_its_own_sequence_numbers():
    """After a restore or a stream re-enable, sequence numbers start over: nothing may be skipped."""
    first = score([ScoredEvent("a", T0, 5000, {"type": "form_submit", "form_kind": "contact"}, stream="arn:1")])
    after_restore = ScoredEvent("b", T0 + timedelta(hours=1), 10, {"type": "form_submit", "form_kind": "seminar"},
                                stream="arn:2")
    outcome = score([after_restore], first.state)
    assert [e.rule_id for e in outcome.ledger] == ["seminar_signup"]
    assert (outcome.state.stream, outcome.state.sequence) == ("arn:2", 10)
    replayed = ScoredEvent("a", T0, 5000, {"type": "form_submit", "form_kind": "contact"}, stream="arn:1")
    assert score([replayed], first.state).ledger == []



def test_the_state_keeps_a_streams_label_and_a_state_that_kept_the_whole_arn_is_not_replayed():
    arn = "arn:aws:dynamodb:ap-northeast-1:123456789012:table/nurture/stream/2026-11-01T00:00:00.000"
    first = score([ScoredEvent("a", T0, 5000, {"type": "form_submit", "form_kind": "contact"}, stream=arn)])
    assert first.state.stream == "2026-11-01T00:00:00.000"
    kept_arn = replace(first.state, stream=arn)  # as a profile scored before labels were kept holds it
    replayed = ScoredEvent("a", T0, 5000, {"type": "form_submit", "form_kind": "contact"}, stream=arn)
    assert score([replayed], kept_arn).ledger == [] and score([replayed], first.state).ledger == []


def test_the_state_keeps_two_days_of_caps_a_few_marks_and_none_of_a_fired_pattern():
    views = [event("page_view", T0 + timedelta(days=day, minutes=n), url="https://example.jp/pricing")
             for day in range(4) for n in range(8)]
    state = score(views).state
    assert sorted(state.caps) == ["page_view#2026-11-04", "page_view#2026-11-05", "pricing_view#2026-11-04",
                                  "pricing_view#2026-11-05"]
    assert len(state.marks["whitepaper_then_pricing"]["then"]) == 5
    fired = score([event("form_submit", T0 + timedelta(days=3, hours=1), form_kind="download"),
                   event("page_view", T0 + timedelta(days=3, hours=2), url="https://example.jp/pricing")], state)
    assert "whitepaper_then_pricing" in fired.state.fired and "whitepaper_then_pricing" not in fired.state.marks

def test_rank_a_needs_fit_and_engagement():
    hot_engagement = [event("form_submit", T0, form_kind="contact"),
                      event("form_submit", T0 + timedelta(minutes=1), form_kind="seminar")]
    assert score(hot_engagement).rank == "A"
    assert score(hot_engagement, profile={"email": "a@example.jp"}).rank == "B"  # fit 0
    assert score(hot_engagement, profile={"email": "a@gmail.com"}).rank == "C"  # fit below zero


def test_a_lead_already_handed_off_is_not_handed_off_again_until_recycled():
    outcome = score([event("form_submit", T0, form_kind="demo_request")], stage="handed_off")
    assert outcome.handoff is None
    recycled_state = ScoreState(cycle=1, sequence=outcome.state.sequence)
    again = score([event("form_submit", T0 + timedelta(days=1), form_kind="demo_request")], recycled_state,
                  stage="recycled")
    assert again.handoff is not None and again.handoff.handoff_id == handoff_id("lead-1", 1) != handoff_id(
        "lead-1", 0)


moments = st.integers(min_value=0, max_value=10**7).map(lambda s: T0 + timedelta(seconds=s))
points = st.floats(min_value=-100, max_value=100, allow_nan=False)


@given(value=st.floats(min_value=0, max_value=1000), start=moments, delta=points, at=moments, read=moments)
def test_adding_then_decaying_equals_decaying_then_adding(value, start, delta, at, read):
    read = max(read, start, at)
    added, as_of = add_points(value, start, delta, at, 30)
    via_add = decayed(added, as_of, read, 30)
    direct = decayed(value, start, read, 30) + decayed(delta, at, read, 30)
    assert via_add == pytest.approx(direct, rel=1e-9, abs=1e-9)


@given(st.lists(st.tuples(points, moments), min_size=1, max_size=12), st.randoms())
def test_the_order_events_arrive_in_does_not_change_engagement(earned, shuffler):
    def total(items):
        value, as_of = 0.0, None
        for delta, at in items:
            value, as_of = add_points(value, as_of, delta, at, 30)
        return decayed(value, as_of, T0 + timedelta(days=200), 30)

    shuffled = list(earned)
    shuffler.shuffle(shuffled)
    assert total(shuffled) == pytest.approx(total(earned), rel=1e-9, abs=1e-9)


def test_what_a_person_does_moves_the_latest_activity_and_what_machines_or_we_do_does_not():
    known = {**PROFILE, "last_activity_at": "2026-11-01T00:00:00.000000Z"}
    ours = score([event("email_sent", T0), event("email_delivered", T0 + timedelta(minutes=1)),
                  event("email_open", T0 + timedelta(minutes=2), bot=True)], profile=known)
    assert ours.last_activity_at is None
    person = score([event("email_sent", T0), event("page_view", T0 + timedelta(hours=2), url="https://example.jp/"),
                    event("email_open", T0 + timedelta(hours=1))], profile=known)
    assert person.last_activity_at == "2026-11-02T03:00:00.000000Z"  # the newest of the person's events
    older = score([event("page_view", T0 - timedelta(days=3), url="https://example.jp/")], profile=known)
    assert older.last_activity_at is None  # arrived late: the known activity is newer
    imported = score([event("form_submit", T0, form_kind="import")], profile=known)
    assert imported.last_activity_at is None  # the marketer's list, not the lead's doing
    ses_open = score([event("email_open", T0, source="ses", message_id="m1")], profile=known)
    assert ses_open.last_activity_at == "2026-11-02T01:00:00.000000Z"  # a person's open, reported by SES


@pytest.mark.parametrize(("field", "value", "rule", "matches"), [
    ("title", "Sales Director", "title_executive", False),  # "cto" inside "Director"
    ("title", "Sales Director", "title_head", True),
    ("title", "CTO", "title_executive", True),
    ("title", "Chief Technology Officer", "title_executive", True),
    ("title", "営業部長", "title_head", True),  # Japanese: no spaces between words
    ("title", "VP of Sales", "title_executive", True),
    ("industry", "Hospitality", "industry_target", False),  # "it" inside
    ("industry", "Securities", "industry_target", False),
    ("industry", "IT services", "industry_target", True),
    ("industry", "情報通信業", "industry_target", True),
    ("department", "Audit", "department_target", False),
    ("department", "Facilities", "department_target", False),
    ("department", "IT部門", "department_target", True),  # a Japanese word right after the keyword
    ("department", "DX推進部", "department_target", True),
])
def test_latin_keywords_match_whole_words_and_japanese_ones_anywhere(field, value, rule, matches):
    found = {match.rule_id for match in fit_matches({field: value}, RULES)}
    assert (rule in found) is matches


def test_a_lead_leaves_a_rank_only_a_margin_below_its_threshold_but_enters_it_only_at_the_threshold():
    from nurture.domain.scoring import rank_for

    assert RULES.ranks.B.min_engagement == 20 and RULES.ranks.hysteresis == 2
    assert rank_for(0, 19.99, RULES, held="B") == "B" and rank_for(0, 18.0, RULES, held="B") == "B"
    assert rank_for(0, 17.99, RULES, held="B") == "C"
    assert rank_for(0, 19.99, RULES, held="C") == "C" and rank_for(0, 19.99, RULES) == "C"  # entering: the threshold
    assert rank_for(20, 48.5, RULES, held="A") == "A" and rank_for(20, 48.5, RULES, held="B") == "B"
    assert rank_for(20, 19.0, RULES, held="A") == "B"  # falling out of A, a held A still counts for B's margin


def test_a_whitepaper_download_at_warms_threshold_stays_warm_as_engagement_decays_for_days():
    from nurture.domain.leads import current_scores, rank_of

    signed_up = datetime(2026, 12, 1, 10, tzinfo=UTC)
    state = ScoreState(engagement=20.0, as_of=signed_up.isoformat())
    profile = {"scoring": state.to_item(), "rank": "B"}
    ranks = {minutes: rank_of(current_scores(profile, RULES, signed_up + timedelta(minutes=minutes)), RULES, "B")
             for minutes in (20, 60 * 24, 60 * 24 * 4)}
    assert ranks == {20: "B", 60 * 24: "B", 60 * 24 * 4: "B"}  # 20 → 18.2 after four days
    five_days = current_scores(profile, RULES, signed_up + timedelta(days=5))
    assert five_days["engagement"] < 18 and rank_of(five_days, RULES, "B") == "C"


def test_the_scorer_keeps_a_warm_lead_warm_when_something_scores_it_just_below_the_threshold():
    signed_up = datetime(2026, 12, 1, 10, tzinfo=UTC)
    later = signed_up + timedelta(hours=2)
    opened = ScoredEvent("e-open", later, 2, {"type": "email_open", "message_id": "m1"})
    state = ScoreState(engagement=20.0, as_of=signed_up.isoformat(), sequence=1)
    kept = score_lead("lead-1", {"rank": "B"}, "nurturing", state, [opened], RULES, later, click_burst_seconds=2,
                      url_groups=URL_GROUPS)
    fresh = score_lead("lead-1", {}, "nurturing", state, [opened], RULES, later, click_burst_seconds=2,
                       url_groups=URL_GROUPS)
    assert kept.engagement < 20 and (kept.rank, fresh.rank) == ("B", "C")


def test_last_activity_only_moves_forward():
    state = ScoreState(sequence=1)
    old_visit = ScoredEvent("e-old", datetime(2026, 11, 1, tzinfo=UTC), 2, {"type": "page_view", "url": "https://x/"})
    new_visit = ScoredEvent("e-new", datetime(2026, 12, 1, tzinfo=UTC), 3, {"type": "page_view", "url": "https://x/"})
    known = {"last_activity_at": "2026-11-15T00:00:00.000000Z"}
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert score_lead("l", known, "nurturing", state, [old_visit], RULES, now, click_burst_seconds=2,
                      url_groups=URL_GROUPS).last_activity_at is None  # a merged visit from before: no move
    moved = score_lead("l", known, "nurturing", state, [old_visit, new_visit], RULES, now, click_burst_seconds=2,
                       url_groups=URL_GROUPS)
    assert moved.last_activity_at == "2026-12-01T00:00:00.000000Z"
