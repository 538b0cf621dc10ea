"""Routing hot leads to salespeople: config/sales.yaml's rules, strategies and their checks."""

import dataclasses
from typing import Any

import msgspec
import pytest

from nurture.config import load_config
from nurture.config.records import validated
from nurture.config.sales import SalesConfig
from nurture.domain.sales.prefectures import PREFECTURES, REGION_OF, prefecture_name
from nurture.domain.sales.routing import RoutableLead, RoutingState, route
from tests.conftest import CONFIG_DIR
from tests.unit.sales_config import sales_problems_after

SHIPPED = load_config(CONFIG_DIR).sales


def hot(rank: str = "A", **profile: str) -> RoutableLead:
    return RoutableLead(profile=profile, rank=rank)


def test_japan_has_47_prefectures_each_in_one_region():
    assert len(PREFECTURES) == len(set(PREFECTURES)) == 47
    assert REGION_OF["東京都"] == "関東" and REGION_OF["沖縄県"] == "九州・沖縄" and REGION_OF["北海道"] == "北海道"


@pytest.mark.parametrize(("written", "name"), [
    ("東京都", "東京都"), ("東京", "東京都"), ("Tokyo", "東京都"), ("ＴＯＫＹＯ", "東京都"), ("Ōsaka-fu", "大阪府"),
    ("kyoto prefecture", "京都府"), (" 北海道 ", "北海道"), ("Hokkaido", "北海道"), ("京都", "京都府"),
    ("東京都港区", None), ("Texas", None), ("", None), (None, None),
])
def test_a_prefecture_is_recognised_however_a_form_or_card_list_writes_it(written, name):
    assert prefecture_name(written) == name


def test_a_lead_goes_to_the_first_rule_that_matches_it_with_the_rules_reason():
    assignment = route(hot(prefecture="大阪"), SHIPPED, RoutingState())
    assert (assignment.owner, assignment.rule, assignment.strategy, assignment.team) == (
        "ito", "west_japan", "round_robin", "west")
    assert assignment.reason == "西日本の企業 (a company in west Japan)" and assignment.kind == "person"


def test_round_robin_takes_the_teams_members_in_turn_from_its_position():
    owners = [route(hot(prefecture="東京都"), SHIPPED, RoutingState(round_robin={"east": turn}))
              for turn in range(5)]
    assert [a.owner for a in owners] == ["suzuki", "sato", "suzuki", "sato", "suzuki"]
    assert [a.turn for a in owners] == [0, 1, 2, 3, 4]


def test_least_loaded_picks_the_member_with_fewest_open_handoffs_and_the_first_listed_on_a_tie():
    big = hot(prefecture="東京都", employees="1,000名以上")
    assert route(big, SHIPPED, RoutingState(open_handoffs={"tanaka": 3, "smith": 1})).owner == "smith"
    assert route(big, SHIPPED, RoutingState(open_handoffs={"tanaka": 2, "smith": 2})).owner == "tanaka"
    assert route(big, SHIPPED, RoutingState()).strategy == "least_loaded"


def test_a_company_that_has_an_owner_sticks_to_that_owner_before_any_other_rule():
    assignment = route(hot(prefecture="大阪府", employees="5000"), SHIPPED, RoutingState(account_owner="sato"))
    assert (assignment.owner, assignment.rule, assignment.strategy) == ("sato", "same_company", "account_owner")


def test_an_account_owner_who_has_left_the_config_does_not_stick():
    assignment = route(hot(prefecture="大阪府"), SHIPPED, RoutingState(account_owner="retired"))
    assert assignment.rule == "west_japan"


def test_a_lead_no_rule_routes_waits_in_the_fallback_queue():
    assignment = route(hot(country="US"), SHIPPED, RoutingState())
    assert (assignment.owner, assignment.kind, assignment.rule, assignment.strategy) == (
        "unassigned", "queue", None, "fallback")


def test_a_lead_handed_off_before_keeps_its_owner_unless_the_matching_rule_routes_afresh():
    again = hot(prefecture="大阪府", owner="tanaka")
    assert (route(again, SHIPPED, RoutingState()).owner, route(again, SHIPPED, RoutingState()).strategy) == (
        "tanaka", "kept")
    afresh = dataclasses.replace(SHIPPED, routing=[
        dataclasses.replace(rule, keep_owner=False) for rule in SHIPPED.routing])
    assert route(again, afresh, RoutingState()).owner == "ito"
    assert route(hot(country="US", owner="tanaka"), SHIPPED, RoutingState()).owner == "tanaka"
    assert route(hot(country="US", owner="retired"), SHIPPED, RoutingState()).owner == "unassigned"


def test_conditions_on_role_form_pattern_asset_rank_industry_and_country_must_all_hold():
    sales = validated(SalesConfig, {
        "people": {"kato": {"name": "加藤", "email": "kato@example.co.jp"}},
        "routing": [{"id": "exec_demo", "strategy": "fixed", "owner": "kato", "reason": "決裁者のデモ依頼",
                     "when": {"fit": ["title_executive"], "form": ["demo"], "pattern": ["demo_request_is_hot"],
                              "asset": ["*.pdf"], "rank": ["A"], "industry": ["製造"], "country": ["JP", "日本"]}}]})
    lead = RoutableLead(profile={"industry": "製造業", "country": "jp"}, rank="A",
                        fit_rules=frozenset({"title_executive"}), forms=frozenset({"demo"}),
                        patterns=frozenset({"demo_request_is_hot"}), assets=frozenset({"Guide.PDF"}))
    assert route(lead, sales, RoutingState()).owner == "kato"
    for different in ({"rank": "B"}, {"fit_rules": frozenset()}, {"forms": frozenset({"contact"})},
                      {"patterns": frozenset()}, {"assets": frozenset()},
                      {"profile": {"industry": "金融", "country": "jp"}}, {"profile": {"industry": "製造業"}}):
        assert route(msgspec.structs.replace(lead, **different), sales, RoutingState()).owner == "unassigned"


def mislabelled(sales: dict[str, Any]) -> None:
    """Names that exist nowhere, in every part of sales.yaml that names something."""
    sales["teams"]["east"]["members"].append("nobody")
    sales["routing"][2]["team"] = "north"
    sales["routing"][1]["when"]["fit"] = ["title_wizard"]
    sales["routing"].append({"id": "by_form", "strategy": "fixed", "owner": "ghost", "reason": "r",
                             "when": {"form": ["nope"], "pattern": ["nope"], "prefecture": ["東京都"]}})
    sales["fallback"] = "limbo"
    sales["people"]["ito"]["channels"] = ["email", "nowhere"]
    sales["webhooks"]["email"] = {"kind": "generic"}
    sales["people"]["sato"]["working_hours"] = {"days": ["sat"], "start": "09:00", "end": "10:00"}
    sales["tasks"][0]["team"] = "north"
    sales["tasks"].append({"id": "call_them", "strategy": "fixed", "owner": "ghost", "reason": "r",
                           "due_after_hours": 7, "when": {"pattern": ["call_meeting_set", "nope"]}})


def test_every_unknown_name_in_sales_yaml_is_a_config_check_problem_with_its_path(tmp_path):
    # (alert channels included: a channel must name a webhook)
    problems, where = sales_problems_after(tmp_path, mislabelled)
    assert problems == {
        f"{where}teams.east.members: no salesperson 'nobody'",
        f"{where}routing.2 (east_japan).team: no team 'north'",
        f"{where}routing.1 (large_companies).when.fit: no fit 'title_wizard'",
        f"{where}routing.4 (by_form).owner: no salesperson or queue 'ghost'",
        f"{where}routing.4 (by_form).when.form: no form 'nope'",
        f"{where}routing.4 (by_form).when.pattern: no pattern 'nope'",
        f"{where}fallback: no queue 'limbo'",
        f"{where}people.ito.channels: no webhook 'nowhere'",
        f"{where}webhooks.email: the id is the email channel's; name the webhook otherwise",
        f"{where}people.sato.working_hours: 1 business hours a week cannot meet feedback.remind_after_hours (24) "
        "within six weeks",
        f"{where}people.sato.working_hours: 1 business hours a week cannot meet feedback.escalate_after_hours (24) "
        "within six weeks",
        f"{where}people.sato.working_hours: 1 business hours a week cannot meet tasks.0.due_after_hours (8) "
        "within six weeks",
        f"{where}people.sato.working_hours: 1 business hours a week cannot meet tasks.1.due_after_hours (7) "
        "within six weeks",
        f"{where}tasks.0 (call_warm_manufacturers).team: no team 'north'",
        f"{where}tasks.1 (call_them).owner: no salesperson or queue 'ghost'",
        f"{where}tasks.1 (call_them).when.pattern: no pattern 'nope'",
    }


@pytest.mark.parametrize(("rule", "problem"), [
    ({"strategy": "round_robin", "owner": "x"}, "a round_robin rule names a 'team'"),
    ({"strategy": "fixed", "team": "east"}, "a fixed rule names an 'owner'"),
    ({"strategy": "fixed", "owner": "x", "when": {"prefecture": ["Gotham"]}}, "not a prefecture: Gotham"),
    ({"strategy": "fixed", "owner": "x", "when": {"region": ["関西"]}}, "not a region"),
])
def test_a_malformed_routing_rule_is_refused_saying_what_it_lacks(rule, problem):
    with pytest.raises(ValueError, match=problem):
        validated(SalesConfig, {"routing": [{"id": "r", "reason": "why", **rule}]})
