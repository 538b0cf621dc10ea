"""Segments: the config model and its checks, the evaluator over stored profiles, and the activity summaries
the scorer keeps on the profile for it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from nurture.config import load_config
from nurture.config.records import problem_text, validated
from nurture.config.segments import SegmentsConfig, segment_problems
from nurture.domain.accounts.standing import with_accounts
from nurture.domain.audiences import PROFILE_ATTRIBUTES, SegmentEvaluator, UnknownSegment
from nurture.domain.clock import iso
from nurture.domain.leads import mail_refusal
from nurture.domain.scoring import ScoredEvent, ScoreState, rescore_lead, score_lead
from nurture.domain.summaries import recorded, url_groups_of
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
RULES = CONFIG.scoring
SHIPPED = CONFIG.segments
GROUPS = {"pricing": ["/pricing"], "plans": ["/pricing/enterprise"], "case_studies": ["/case"],
          "seminars": ["/セミナー"], "downloads": ["/downloads/"]}
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday, 10:00 in Tokyo

# A profile as boto3 hands it over: numbers are Decimals, string sets are sets.
STORED: dict[str, Any] = {
    "PK": "LEAD#l1", "SK": "PROFILE", "lead_id": "l1", "email": "taro@example.co.jp", "title": "営業部長",
    "employees": "1,000名", "industry": "製造業", "country": "JP", "language": "ja", "status": "active",
    "stage": "nurturing", "rank": "B", "fit": Decimal("55"),
    "consent": {"granted": True, "purpose": "ご案内", "version": "2026-04"},
    "first_touch": {"utm": {"utm_source": "expo-2026-autumn"}, "at": "2026-10-01T01:00:00.000000Z"},
    "form_kinds": {"import"},
    "custom": {"inquiry_type": "料金について", "prefecture": "大阪府", "seats": Decimal("25")},
    "scoring": {"engagement": Decimal("30.5"), "as_of": iso(T0), "version": Decimal("3"), "sequence": Decimal("17"),
                "caps": {}, "marks": {}, "fired": {}, "clicks": []},
    "activity": {
        "types": {"page_view": {"n": Decimal("4"), "last": iso(T0 - timedelta(days=2))},
                  "form_submit": {"n": Decimal("1"), "last": iso(T0 - timedelta(days=9))},
                  "email_click": {"n": Decimal("2"), "last": iso(T0 - timedelta(days=7))}},
        "pages": {"pricing": {"n": Decimal("2"), "last": iso(T0 - timedelta(days=2))}},
        "forms": {"whitepaper": {"n": Decimal("1"), "last": iso(T0 - timedelta(days=9))}},
        "form_kinds": {"download": {"n": Decimal("1"), "last": iso(T0 - timedelta(days=9))}},
    },
}


def evaluator(segments: dict[str, Any]) -> SegmentEvaluator:
    return SegmentEvaluator(validated(SegmentsConfig, {"url_groups": GROUPS, "segments": segments}), RULES,
                            CONFIG.subscriptions)


def matches(criterion: dict[str, Any], profile: dict[str, Any] = STORED, now: datetime = T0) -> bool:
    return evaluator({"audience": criterion}).matches("audience", profile, now)


def without(*names: str) -> dict[str, Any]:
    return {key: value for key, value in STORED.items() if key not in names}


# --- the shipped file ------------------------------------------------------------------------------------


def test_the_shipped_segments_load_and_agree_with_the_shipped_forms():
    assert segment_problems(SHIPPED, CONFIG.forms, list(CONFIG.subscriptions.types)) == []
    shipped = SegmentEvaluator(SHIPPED, RULES, CONFIG.subscriptions)
    assert shipped.matches("decision_makers", STORED, T0) and shipped.matches("enterprise", STORED, T0)
    assert shipped.matches("pricing_interest", STORED, T0) and not shipped.matches("sales_follow_up", {}, T0)


class _Recording(dict):
    """A profile that notes which of its attributes were read."""

    def __init__(self, profile: dict[str, Any]):
        super().__init__(profile)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


EVERY_KIND = {
    "rank": {"rank": ["A"]}, "stage": {"stage": ["won"]}, "status": {"status": ["dormant"]},
    "score": {"score": {"min": 1}}, "fit": {"fit": {"min": 1}}, "engagement": {"engagement": {"min": 1}},
    "field": {"field": {"name": "email_domain", "any_of": ["example.co.jp"]}},
    "custom": {"field": {"name": "custom.prefecture", "keywords": ["大阪"]}},
    "forms": {"forms": ["contact"]}, "form_kinds": {"form_kinds": ["seminar"]},
    "activity": {"activity": {"type": "page_view", "url_group": "pricing", "within_days": 3}},
    "source": {"source": ["expo"]}, "consent": {"consent": ["granted"]}, "subscribed": {"subscribed": True},
    "customer_segment": {"customer_segment": ["loyal"]}, "bought": {"bought": ["研修"]},
    "next_product": {"next_product": ["研修"]},
}


def test_the_evaluator_reads_only_what_a_scan_projects():
    profile = _Recording(STORED)
    every_kind, shipped = evaluator(EVERY_KIND), SegmentEvaluator(SHIPPED, RULES, CONFIG.subscriptions)
    for name in EVERY_KIND:
        every_kind.matches(name, profile, T0)
    for name in SHIPPED.segments:
        shipped.matches(name, profile, T0)
    assert profile.read <= set(PROFILE_ATTRIBUTES)
    assert {"scoring", "activity", "custom", "consent", "sequence", "form_kinds"} <= profile.read


# --- the evaluator -----------------------------------------------------------------------------------------


def test_a_stored_profile_with_decimals_and_sets_is_scored_as_the_lead_view_scores_it():
    # fit: title_head 20 + employees 20 + industry 10 + country 5; engagement 30.5 as of T0
    assert matches({"fit": {"min": 55, "max": 55}}) and matches({"engagement": {"min": 30.5}})
    assert matches({"score": {"min": 85.5, "max": 85.5}}) and not matches({"score": {"min": 86}})
    assert matches({"rank": ["B"]}) and not matches({"rank": ["A"]})
    assert matches({"activity": {"type": "page_view", "min_count": 4}})
    assert not matches({"activity": {"type": "page_view", "min_count": 5}})
    assert matches({"form_kinds": ["import"]}) and matches({"form_kinds": ["download"]})  # the set, the summary
    assert matches({"forms": ["whitepaper"]}) and not matches({"forms": ["contact"]})


def test_a_lead_scored_before_summaries_were_kept_has_done_nothing_yet():
    old = without("activity")
    assert not matches({"activity": {"type": "page_view"}}, old)
    assert matches({"not": {"activity": {"type": "email_click"}}}, old)
    assert not matches({"forms": ["whitepaper"]}, old)
    assert matches({"form_kinds": ["import"]}, old)  # capture keeps the kinds on the profile itself
    assert not matches({"activity": {"type": "page_view"}}, {})


def test_engagement_decays_to_now_across_a_threshold():
    profile = {**STORED, "scoring": {"engagement": Decimal("20"), "as_of": iso(T0)}}
    above = {"engagement": {"min": 15}}
    assert matches(above, profile, T0 + timedelta(days=12))  # 15.16
    assert not matches(above, profile, T0 + timedelta(days=13))  # 14.80
    assert matches({"score": {"max": 70}}, profile, T0 + timedelta(days=13))  # 55 + 14.80


def test_rank_is_decided_as_of_now_keeping_a_held_rank_a_margin_below_its_threshold():
    warm = {**without("title", "employees", "industry", "country"),
            "scoring": {"engagement": Decimal("20"), "as_of": iso(T0)}, "rank": "B"}
    assert matches({"rank": ["B"]}, warm, T0 + timedelta(days=4))  # 18.2: within the margin
    assert matches({"rank": ["C"]}, warm, T0 + timedelta(days=5))


@pytest.mark.parametrize(("title", "keywords", "expected"), [
    ("営業部長", ["部長"], True),  # Japanese: no spaces between words
    ("Sales Director", ["cto"], False),  # a Latin keyword is a whole word
    ("CTO", ["cto"], True),
    ("Head of IT", ["IT"], True),
    ("Audit", ["IT"], False),
    ("DX推進部", ["DX"], True),
    ("", ["部長"], False),
    ("Audit", ["IT", "部長"], False),  # any of several, each as it matches alone
    ("Audit 部長", ["IT", "部長"], True),
    ("Sales Director", ["cto", "director"], True),
])
def test_keywords_match_whole_latin_words_and_japanese_anywhere(title, keywords, expected):
    assert matches({"field": {"name": "title", "keywords": keywords}}, {**STORED, "title": title}) is expected


@pytest.mark.parametrize(("employees", "expected"), [
    ("1,000名", True), ("1000-4999", True), (Decimal("1200"), True), ("999名", False), ("不明", False), (None, False),
])
def test_employees_are_counted_from_what_people_type(employees, expected):
    assert matches({"field": {"name": "employees", "min": 1000}}, {**STORED, "employees": employees}) is expected


def test_any_of_is_exact_and_case_insensitive_and_custom_fields_are_read_too():
    assert matches({"field": {"name": "country", "any_of": ["jp", "Japan"]}})
    assert not matches({"field": {"name": "country", "any_of": ["Japanese"]}}, {**STORED, "country": "Japan Inc"})
    assert matches({"field": {"name": "custom.prefecture", "keywords": ["大阪"]}})
    assert matches({"field": {"name": "custom.inquiry_type", "any_of": ["料金について"]}})
    assert matches({"field": {"name": "custom.seats", "any_of": ["25"]}})  # a Decimal
    assert not matches({"field": {"name": "custom.prefecture", "any_of": ["大阪"]}})
    assert matches({"field": {"name": "email_domain", "any_of": ["EXAMPLE.co.jp"]}})
    assert not matches({"field": {"name": "department", "keywords": ["営業"]}})  # no such value


def test_within_days_includes_the_boundary():
    last_click = T0 - timedelta(days=7)  # STORED's latest email click
    week = {"activity": {"type": "email_click", "within_days": 7}}
    assert matches(week, now=last_click + timedelta(days=7))
    assert not matches(week, now=last_click + timedelta(days=7, microseconds=1))
    assert matches({"activity": {"type": "page_view", "url_group": "pricing", "within_days": 2}})
    assert not matches({"activity": {"type": "page_view", "url_group": "pricing", "within_days": 1.5}})
    assert not matches({"activity": {"type": "page_view", "url_group": "case_studies"}})


def test_combinations_nest_and_segments_reuse_each_other():
    audiences = evaluator({
        "decision_makers": {"field": {"name": "title", "keywords": ["部長", "Director"]}},
        "engaged": {"any": [{"activity": {"type": "email_click", "within_days": 30}},
                            {"activity": {"type": "page_view", "url_group": "pricing"}}]},
        "follow_up": {"all": [{"segment": "decision_makers"}, {"segment": "engaged"},
                              {"not": {"stage": ["handed_off", "accepted", "won"]}}]},
        "others": {"not": {"segment": "follow_up"}},
    })
    assert audiences.matches("follow_up", STORED, T0) and not audiences.matches("others", STORED, T0)
    assert not audiences.matches("follow_up", {**STORED, "stage": "handed_off"}, T0)
    assert not audiences.matches("follow_up", {**STORED, "title": "担当"}, T0)
    quiet = {**STORED, "activity": {"types": {"email_click": {"n": 1, "last": iso(T0 - timedelta(days=31))}}}}
    assert not audiences.matches("follow_up", quiet, T0) and audiences.matches("others", quiet, T0)
    with pytest.raises(UnknownSegment):
        audiences.matches("nobody", STORED, T0)


@pytest.mark.parametrize(("change", "subscribed"), [
    ({}, True),
    ({"consent": {"granted": False}}, False),
    ({"consent": None}, False),  # unknown consent is no consent: the sender sends nothing either
    ({"status": "unsubscribed"}, False),
    ({"status": "bounced"}, False),
    ({"status": "complained"}, False),
    ({"stage": "recycled"}, True),
])
def test_subscribed_is_the_senders_own_test(change, subscribed):
    profile = {**STORED, **change}
    assert matches({"subscribed": True}, profile) is subscribed is (mail_refusal(profile) is None)
    assert matches({"subscribed": False}, profile) is not subscribed


def test_consent_status_stage_and_source_read_the_profile_as_the_lead_view_shows_it():
    assert matches({"consent": ["granted"]}) and matches({"consent": ["unknown"]}, without("consent"))
    assert matches({"consent": ["refused"]}, {**STORED, "consent": {"granted": False}})
    assert matches({"status": ["active"]}) and matches({"status": ["converted"]}, {**STORED, "stage": "won"})
    assert matches({"status": ["dormant"]}, {**STORED, "sequence": {"stopped": "sunset"}})
    assert matches({"stage": ["nurturing"]}, without("stage"))
    assert matches({"source": ["expo-2026-autumn"]}) and not matches({"source": ["expo-2026-autumn"]}, {})


def test_customers_are_selected_by_their_cpm_segment_and_by_what_they_bought():
    customer = {**STORED, "customer": {"segment": "lapsed_loyal", "orders": Decimal("4")}, "products": {"研修", "保守"}}
    assert matches({"customer_segment": ["lapsed_loyal", "loyal"]}, customer)
    assert not matches({"customer_segment": ["loyal"]}, customer) and not matches({"customer_segment": ["loyal"]})
    assert matches({"bought": ["保守", "ライセンス"]}, customer) and not matches({"bought": ["ライセンス"]}, customer)
    assert not matches({"bought": ["研修"]})  # a lead that bought nothing


def test_customers_are_selected_by_what_customers_like_them_bought_next():
    customer = {**STORED, "customer": {"segment": "first_time", "next_product": "研修"}, "products": {"ライセンス"}}
    assert matches({"next_product": ["保守", "研修"]}, customer) and not matches({"next_product": ["保守"]}, customer)
    assert not matches({"next_product": ["研修"]})  # a lead that bought nothing
    assert problems({"bad": {"customer_segment": ["regular"]}}).startswith(
        "segments.bad.customer_segment.0: Input should be 'first_time', 'toddler'")


def test_leads_are_selected_by_their_companys_standing_as_the_scan_reads_it():
    standing = {"PK": "ACCOUNT#x", "rank": "A", "people": Decimal("4"),
                "buying_group": {"roles": {"decision_maker": Decimal("0"), "staff": Decimal("2"), "it": Decimal("1")},
                                 "missing": ["decision_maker"]},
                "fired": {"three_people_asked": {"day": "2026-10-25", "at": "2026-10-25T01:00:00Z", "lead_id": "l9"}}}
    read: list[set[str]] = []

    def standings(accounts: Any) -> dict[str, Any]:
        read.append(set(accounts))
        return {"ミライ工房": standing}

    (member,) = with_accounts([{**STORED, "account": "ミライ工房"}, STORED], standings)[:1]
    assert read == [{"ミライ工房"}]  # one read, of the accounts the profiles name
    assert matches({"account": {"rank": ["A", "B"], "people": {"min": 3}}}, member)
    assert not matches({"account": {"rank": ["B"]}}, member)
    assert not matches({"account": {"people": {"min": 5}}}, member)
    assert matches({"account": {"roles": ["staff", "it"], "missing": ["decision_maker"]}}, member)
    assert not matches({"account": {"roles": ["decision_maker"]}}, member)
    # three_people_asked counts 14 days: fired 8 days before T0 it is hot, 15 days after it is no longer
    assert matches({"account": {"hot": True}}, member)
    assert matches({"account": {"hot": False}}, member, T0 + timedelta(days=7))
    # A lead without an account, or whose account has no standing yet, is in no such segment, either way
    for nobody in (STORED, *with_accounts([{**STORED, "account": "未知"}], lambda accounts: {})):
        assert not matches({"account": {"hot": False}}, nobody)
        assert matches({"not": {"account": {"rank": ["A"]}}}, nobody)
    assert evaluator({"a": {"any": [{"rank": ["A"]}, {"segment": "b"}]}, "b": {"account": {"rank": ["A"]}},
                      "c": {"rank": ["A"]}}).needs_account("a")
    assert not evaluator({"c": {"rank": ["A"]}}).needs_account("c")
    assert problems({"bad": {"account": {}}}).endswith("give at least one of rank, people, hot, roles, missing")
    unknown_role = validated(SegmentsConfig, {"segments": {"s": {"account": {"missing": ["cfo"]}}}})
    assert segment_problems(unknown_role, CONFIG.forms, list(CONFIG.subscriptions.types), list(RULES.accounts.roles)
                            ) == ["segment 's': account: unknown role 'cfo' (scoring.yaml's accounts.roles has: "
                                  "decision_maker, manager, staff, it)"]


# --- the config's checks ----------------------------------------------------------------------------------


def problems(segments: dict[str, Any], url_groups: dict[str, Any] | None = None) -> str:
    """Every error as the loader shows it: where, then what."""
    with pytest.raises(ValidationError) as raised:
        validated(SegmentsConfig, {"url_groups": GROUPS if url_groups is None else url_groups,
                                       "segments": segments})
    return "\n".join(f"{'.'.join(map(str, error['loc'])) or '(top level)'}: {problem_text(error)}"
                     for error in raised.value.errors())


@pytest.mark.parametrize(("segments", "expected"), [
    ({"hot": {"rank": ["A"], "colour": "red"}}, "segments.hot.colour: Extra inputs are not permitted"),
    ({"hot": {"description": "no criterion"}}, "segments.hot: Value error, a criterion has exactly one key"),
    ({"hot": {"rank": ["A"], "stage": ["won"]}}, "got rank, stage; combine them under 'all'"),
    ({"hot": {"all": [{"rank": ["A"]}, {"rank": ["A"], "subscribed": True}]}}, "segments.hot.all.1: Value error"),
    ({"hot": {"any": [{"score": {"min": 50, "max": 20}}]}}, "segments.hot.any.0.score: Value error, min (50) is "
                                                              "above max (20)"),
    ({"hot": {"field": {"name": "employees", "min": 1000, "max": 300}}}, "segments.hot.field: Value error, min"),
    ({"hot": {"rank": ["A", "S"]}}, "segments.hot.rank.1: Input should be 'A', 'B' or 'C'"),
    ({"hot": {"field": {"name": "hobby", "keywords": ["golf"]}}}, "segments.hot.field.name: Value error, unknown "
                                                                  "field 'hobby'"),
    ({"hot": {"field": {"name": "title", "min": 3}}}, "'min'/'max' apply to the employees field only"),
    ({"hot": {"activity": {"type": "email_click", "url_group": "pricing"}}},
     "segments.hot.activity: Value error, 'url_group' applies to page_view and download only"),
    ({"hot": {"activity": {"type": "page_view", "within_days": 7, "min_count": 3}}},
     "'within_days' and 'min_count' cannot be combined"),
    ({"hot": {"activity": {"type": "email_sent"}}}, "segments.hot.activity.type: Input should be"),
    ({"hot": {"all": [{"activity": {"type": "page_view", "url_group": "pricng"}}]}},
     "segment 'hot': all[0].activity.url_group: unknown url group 'pricng' (url_groups: pricing, plans"),
    ({"hot": {"not": {"segment": "warm"}}}, "segment 'hot': not.segment: unknown segment 'warm'"),
    ({"a": {"segment": "b"}, "b": {"all": [{"rank": ["A"]}, {"segment": "c"}]}, "c": {"not": {"segment": "a"}}},
     "segment 'c': not.segment: closes a circle of references: a -> b -> c -> a"),
    ({"a": {"any": [{"rank": ["A"]}, {"segment": "a"}]}}, "segment 'a': any[1].segment: closes a circle of "
                                                          "references: a -> a"),
    ({"Hot Leads": {"rank": ["A"]}}, "segment 'Hot Leads': name must be a lower-case identifier"),
])
def test_a_mistake_is_named_with_its_segment_and_place(segments, expected):
    assert expected in problems(segments)


def test_url_groups_are_named_path_prefixes():
    assert "url group 'pricing': 'pricing' is not a path" in problems({}, {"pricing": ["pricing"]})
    assert "url group 'pricing': give at least one path prefix" in problems({}, {"pricing": []})


def test_what_forms_yaml_contradicts_is_reported_per_segment_and_place():
    segments = validated(SegmentsConfig, {"segments": {
        "downloaders": {"any": [{"forms": ["whitepaper", "white-paper"]}, {"form_kinds": ["download"]}]},
        "kansai": {"field": {"name": "custom.prefecture", "any_of": ["大阪府"]}},
        "price_askers": {"not": {"field": {"name": "custom.inquiry_type", "any_of": ["料金について", "お値段"]}}},
    }})
    assert segment_problems(segments, CONFIG.forms, list(CONFIG.subscriptions.types)) == [
        "segment 'downloaders': any[0].forms: unknown form 'white-paper' (forms.yaml has: contact, whitepaper, "
        "seminar, demo, newsletter)",
        "segment 'kansai': field.name: custom field 'prefecture' is not declared in forms.yaml",
        "segment 'price_askers': not.field.any_of: 'inquiry_type' has no choice お値段",
    ]


def test_receives_selects_leads_that_may_be_emailed_and_get_a_type_by_choice_or_default():
    consenting = {**STORED, "consent": {"granted": True}, "status": "active"}
    left = {**consenting, "subscriptions": {"seminar": {"choice": "out", "at": iso(T0), "via": "one_click"}}}
    asked_in = {**consenting, "subscriptions": {"seminar": {"choice": "in", "at": iso(T0), "via": "sales_api"}}}
    waiting = {**consenting, "double_opt_in": {"form_id": "newsletter", "requested_at": iso(T0),
                                               "remove_at": iso(T0 + timedelta(days=7))}}
    criterion = {"receives": ["seminar"]}
    assert matches(criterion, consenting) and matches(criterion, asked_in)
    assert not matches(criterion, left) and not matches(criterion, waiting)
    assert matches({"receives": ["product_news", "seminar"]}, left)  # any of them
    unknown = validated(SegmentsConfig, {"segments": {"webinar_fans": {"receives": ["webinars"]}}})
    assert segment_problems(unknown, CONFIG.forms, list(CONFIG.subscriptions.types)) == [
        "segment 'webinar_fans': receives: unknown subscription type 'webinars' (subscriptions.yaml has: newsletter, "
        "seminar, product_news, step_emails)"]


# --- the summaries the scorer keeps -------------------------------------------------------------------------

_seq = iter(range(1, 10**9))


def event(kind: str, at: datetime, **attributes: Any) -> ScoredEvent:
    number = next(_seq)
    return ScoredEvent(f"e{number}", at, number, {"type": kind, **attributes})


def scored(events: list[ScoredEvent], profile: dict[str, Any] | None = None, state: ScoreState | None = None):
    return score_lead("lead-1", profile or {}, "nurturing", state or ScoreState(), events, RULES,
                      max(e.occurred_at for e in events), click_burst_seconds=1, url_groups=GROUPS)


def test_url_groups_match_the_path_by_prefix_whatever_the_host_query_case_or_encoding():
    assert url_groups_of("https://example.jp/pricing/enterprise?utm_source=x", GROUPS) == ["pricing", "plans"]
    assert url_groups_of("https://example.jp/Case-Studies/toyota", GROUPS) == ["case_studies"]
    assert url_groups_of("https://example.jp/%E3%82%BB%E3%83%9F%E3%83%8A%E3%83%BC/2026", GROUPS) == ["seminars"]
    assert url_groups_of("/downloads/guide.pdf", GROUPS) == ["downloads"]
    assert url_groups_of("https://example.jp/?page=/pricing", GROUPS) == []
    assert url_groups_of(None, GROUPS) == []


def test_the_persons_activity_is_counted_by_type_url_group_form_and_kind():
    outcome = scored([
        event("page_view", T0, url="https://example.jp/pricing"),
        event("page_view", T0 + timedelta(hours=1), url="https://example.jp/pricing/enterprise"),
        event("download", T0 + timedelta(hours=2), url="https://cdn.example.jp/downloads/guide.pdf"),
        event("form_submit", T0 + timedelta(hours=3), form_id="whitepaper", form_kind="download"),
    ])
    summary = outcome.activity
    assert recorded(summary, "types", "page_view") == (2, iso(T0 + timedelta(hours=1)))
    assert recorded(summary, "pages", "pricing") == (2, iso(T0 + timedelta(hours=1)))
    assert recorded(summary, "pages", "plans")[0] == 1 and recorded(summary, "pages", "downloads")[0] == 1
    assert recorded(summary, "forms", "whitepaper")[0] == 1 and recorded(summary, "form_kinds", "download")[0] == 1


def test_a_replayed_batch_counts_nothing_twice():
    visits = [event("page_view", T0, url="https://example.jp/pricing")]
    first = scored(visits)
    profile = {"activity": first.activity}
    replayed = scored(visits, profile, first.state)
    assert replayed.applied == 0 and replayed.activity is None  # nothing is written
    more = event("page_view", T0 + timedelta(minutes=5), url="https://example.jp/pricing")
    partly = scored([*visits, more], profile, first.state)  # a retried batch that grew a record
    assert recorded(partly.activity, "pages", "pricing")[0] == 2


def test_machines_scanners_repeats_imports_and_our_own_sends_are_not_counted():
    outcome = scored([
        event("email_open", T0, message_id="m1", bot=True, bot_reason="image_proxy"),
        event("email_click", T0, message_id="m1", link="cta", bot=True, bot_reason="scanner_user_agent"),
        *(event("email_click", T0 + timedelta(minutes=1, milliseconds=100 * n), message_id="m2", link=f"l{n}")
          for n in range(3)),  # a scanner's burst
        event("email_open", T0 + timedelta(minutes=2), message_id="m3", source="ses"),  # repeats our pixel's
        event("form_submit", T0 + timedelta(minutes=3), form_id="import:expo", form_kind="import"),
        event("email_sent", T0 + timedelta(minutes=4), message_id="m4"),
    ])
    assert outcome.activity is None
    person = scored([event("email_click", T0, message_id="m1", link="cta"), event("email_open", T0, message_id="m1")])
    assert recorded(person.activity, "types", "email_click")[0] == 1
    assert recorded(person.activity, "types", "email_open")[0] == 1


def test_a_burst_completed_in_a_later_batch_takes_back_the_click_it_counted():
    first = scored([event("email_click", T0, message_id="m1", link="cta")])
    assert recorded(first.activity, "types", "email_click")[0] == 1
    rest = scored([event("email_click", T0 + timedelta(milliseconds=300), message_id="m1", link="guide")],
                  {"activity": first.activity}, first.state)
    assert recorded(rest.activity, "types", "email_click") == (0, None)
    assert not matches({"activity": {"type": "email_click"}}, {"activity": rest.activity})
    straggler = scored([event("email_click", T0 + timedelta(milliseconds=600), message_id="m1", link="faq")],
                       {"activity": rest.activity}, rest.state)
    assert straggler.activity is None  # taken back once


def test_a_click_over_the_daily_cap_is_counted_and_taken_back_with_its_burst():
    clicks = [event("email_click", T0 + timedelta(minutes=n), message_id=f"m{n}", link="cta") for n in range(3)]
    capped = scored(clicks)  # the third earns nothing (cap 10) but is still the person's click
    assert recorded(capped.activity, "types", "email_click")[0] == 3
    scanner = event("email_click", clicks[2].occurred_at + timedelta(milliseconds=200), message_id="m2", link="guide")
    burst = scored([scanner], {"activity": capped.activity}, capped.state)
    assert recorded(burst.activity, "types", "email_click")[0] == 2
    assert {click.event_id for click in burst.machine_clicks} == {clicks[2].event_id, scanner.event_id}


def test_last_never_moves_backwards_when_older_history_arrives():
    recent = scored([event("page_view", T0, url="https://example.jp/pricing")])
    merged = scored([event("page_view", T0 - timedelta(days=3), url="https://example.jp/pricing")],
                    {"activity": recent.activity}, recent.state)
    assert recorded(merged.activity, "pages", "pricing") == (2, iso(T0))


def test_rescore_rebuilds_the_summaries_from_the_retained_events():
    recycled_at = T0 - timedelta(days=10)
    events = [
        event("form_submit", T0 - timedelta(days=20), form_id="whitepaper", form_kind="download"),  # an earlier cycle
        event("page_view", T0, url="https://example.jp/pricing"),
        event("email_open", T0, message_id="m1", bot=True),
        event("page_view", T0 + timedelta(days=2), url="https://example.jp/pricing"),  # still on its way
    ]
    profile = {
        "stage": "recycled", "last_activity_at": iso(T0),
        "scoring": ScoreState(engagement=1.0, as_of=iso(T0), sequence=40, cycle=1,
                              cycle_started_at=iso(recycled_at)).to_item(),
        "activity": {"types": {"page_view": {"n": Decimal("99"), "last": iso(T0)}}},  # whatever went wrong before
    }
    outcome = rescore_lead("lead-1", profile, events, RULES, T0 + timedelta(days=2), click_burst_seconds=1,
                           url_groups=GROUPS)
    assert outcome.activity == {
        "types": {"form_submit": {"n": 1, "last": iso(events[0].occurred_at)}, "page_view": {"n": 1, "last": iso(T0)}},
        "forms": {"whitepaper": {"n": 1, "last": iso(events[0].occurred_at)}},
        "form_kinds": {"download": {"n": 1, "last": iso(events[0].occurred_at)}},
        "pages": {"pricing": {"n": 1, "last": iso(T0)}},
    }
    assert rescore_lead("lead-1", {**profile, "activity": outcome.activity}, events, RULES, T0 + timedelta(days=2),
                        click_burst_seconds=1, url_groups=GROUPS).activity == outcome.activity
