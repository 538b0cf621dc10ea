"""Call tasks (テレアポ): which lead gets one, when a handoff waits for the call, and what a call's outcome does."""

from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from nurture.cli.tasks import OUTCOMES
from nurture.config import load_config
from nurture.config.records import dumped, validated
from nurture.config.sales import SalesConfig
from nurture.domain.errors import TaskNotFound
from nurture.domain.sales.routing import RoutableLead, RoutingState, route
from nurture.domain.sales.tasks import CallOutcome, holds_handoff, task_id, task_key, task_rule
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
SHIPPED = CONFIG.sales
WARM = {"lead_id": "l1", "industry": "製造業", "employees": "300", "phone": "03-1234-5678", "stage": "nurturing"}
CALL_FIRST = validated(SalesConfig, {
    **dumped(SalesConfig, SHIPPED), "tasks": [{"id": "call_first", "when": {"rank": ["A"], "phone": True},
                                       "strategy": "fixed", "owner": "sato", "instead_of_handoff": True,
                                       "reason": "まず電話"}, *dumped(SalesConfig, SHIPPED)["tasks"]]})


def lead(rank: str = "B", **profile: Any) -> RoutableLead:
    return RoutableLead(profile={**WARM, **profile}, rank=rank)


def test_a_warm_manufacturer_with_a_phone_matches_the_shipped_task_rule():
    rule = task_rule(lead(), handing_off=False, cycle=0, sales=SHIPPED)
    assert rule is not None and rule.id == "call_warm_manufacturers" and rule.due_after_hours == 8


@pytest.mark.parametrize("profile", [
    {"phone": ""}, {"phone": "03-1234-5678", "phone_wrong": "03-1234-5678"}, {"industry": "小売業"},
    {"employees": "50"}, {"stage": "handed_off"}, {"stage": "won"},
    {"call_task": {"task_id": "l1-0", "cycle": 0, "status": "done"}},
    {"double_opt_in": {"state": "pending", "requested_at": "2026-12-01T00:00:00.000000Z"}},
])
def test_no_task_without_a_number_to_call_outside_the_rule_out_of_nurturing_or_once_made_this_cycle(profile):
    assert task_rule(lead(**profile), handing_off=False, cycle=0, sales=SHIPPED) is None


def test_a_new_number_after_a_wrong_one_and_a_new_cycle_may_be_called_again():
    assert task_rule(lead(phone="06-0000-0000", phone_wrong="03-1234-5678"), False, 0, SHIPPED) is not None
    done = {"task_id": "l1-0", "cycle": 0, "status": "done"}
    assert task_rule(lead(stage="recycled", call_task=done), False, 1, SHIPPED) is not None


def test_a_lead_turning_hot_gets_a_task_only_from_a_rule_that_calls_instead_of_handing_off():
    assert task_rule(lead("A"), handing_off=True, cycle=0, sales=SHIPPED) is None
    rule = task_rule(lead("A"), handing_off=True, cycle=0, sales=CALL_FIRST)
    assert rule is not None and rule.id == "call_first"


def test_a_handoff_waits_only_for_an_open_task_of_a_call_first_rule_in_this_cycle():
    def marker(**fields: Any) -> dict[str, Any]:
        return {"call_task": {"task_id": "l1-0", "cycle": 0, "status": "open", "instead_of_handoff": True, **fields}}

    assert holds_handoff(marker(), cycle=0)
    assert not holds_handoff(marker(status="done"), cycle=0)
    assert not holds_handoff(marker(instead_of_handoff=False), cycle=0)
    assert not holds_handoff(marker(), cycle=1)
    assert not holds_handoff({}, cycle=0)


def test_a_task_is_routed_by_its_rules_strategy_and_a_lead_with_an_owner_keeps_them():
    (rule,) = SHIPPED.tasks
    turns = [route(lead(), SHIPPED, RoutingState(round_robin={"east": turn}), [rule]) for turn in range(3)]
    assert [a.owner for a in turns] == ["suzuki", "sato", "suzuki"] and turns[0].rule == rule.id
    kept = route(lead(owner="ito"), SHIPPED, RoutingState(), [rule])
    assert (kept.owner, kept.strategy) == ("ito", "kept")


def test_a_task_id_names_its_lead_and_cycle():
    assert task_key(task_id("0123abcd", 3)) == ("0123abcd", 3)
    for malformed in ("0123abcd", "-3", "0123abcd-x"):
        with pytest.raises(TaskNotFound):
            task_key(malformed)


def test_the_cli_offers_exactly_the_outcomes_the_api_takes():
    assert get_args(CallOutcome) == OUTCOMES


@pytest.mark.parametrize(("outcome", "points"), [("reached", 10), ("meeting_set", 30), ("not_interested", -10),
                                                 ("no_answer", 0), ("wrong_number", 0)])
def test_each_call_outcome_scores_by_its_own_engagement_rule(outcome: str, points: float):
    event = {"type": "call_outcome", "outcome": outcome,
             "occurred_at": datetime(2026, 12, 7, tzinfo=UTC).isoformat()}
    assert sum(rule.points for rule in CONFIG.scoring.engagement if rule.when.matches(event)) == points
