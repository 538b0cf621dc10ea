"""The console's pure parts: who a token's claims make the user, what they may see, and a score's story."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from nurture.config import load_config
from nurture.domain.console.access import console_user, require, visible_owner
from nurture.domain.console.views import score_history
from nurture.domain.errors import Forbidden, NotSignedIn
from nurture.domain.leads import LeadRecord
from tests.conftest import CONFIG_DIR

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SHIPPED = load_config(CONFIG_DIR)


@pytest.mark.parametrize("groups", [["sales", "marketer"], "[sales marketer]", "[sales marketer intruders]"])
def test_groups_come_as_a_list_or_as_the_authorizers_string_and_unknown_ones_are_ignored(groups):
    user = console_user({"sub": "u1", "email": "a@example.jp", "cognito:groups": groups})

    assert user.groups == {"sales", "marketer"} and user.may("leads:read_all") and not user.may("leads:erase")


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": 7}])
def test_claims_without_a_subject_are_nobody_signed_in(claims):
    with pytest.raises(NotSignedIn):
        console_user(claims)


def test_an_unverified_address_names_nobodys_leads():
    user = console_user({"sub": "u1", "email": "tanaka@example.co.jp", "email_verified": "false",
                         "cognito:groups": ["sales"]})

    assert user.email is None
    with pytest.raises(Forbidden):
        visible_owner(user, SHIPPED.sales)


def test_marketers_see_everyone_a_salesperson_their_own_and_nobody_else_anything():
    sales = SHIPPED.sales
    marketer = console_user({"sub": "m", "cognito:groups": ["marketer"]})
    tanaka = console_user({"sub": "t", "email": "Tanaka@Example.co.jp", "cognito:groups": ["sales"]})
    outsider = console_user({"sub": "o", "email": "tanaka@example.co.jp"})

    assert visible_owner(marketer, sales) is None
    assert visible_owner(tanaka, sales) == "tanaka"
    with pytest.raises(Forbidden):
        visible_owner(outsider, sales)
    with pytest.raises(Forbidden):
        require(marketer, "leads:erase")


def ledger(at: datetime, rule: str, delta: float) -> dict[str, object]:
    return {"occurred_at": at.isoformat().replace("+00:00", "Z"), "rule_id": rule, "delta": delta, "reason": rule}


def test_the_score_steps_up_at_each_ledger_entry_and_decays_between_them_to_now():
    rules = SHIPPED.scoring
    record = LeadRecord("lead", {"email": "a@example.jp"}, ledger=[
        ledger(NOW - timedelta(days=20), "pricing", 10), ledger(NOW - timedelta(days=40), "webinar", 20)])

    history = score_history(record, rules, NOW)

    steps = [point for point in history if point["rule_id"]]
    assert [step["rule_id"] for step in steps] == ["webinar", "pricing"]  # oldest first
    fit = history[0]["total"] - history[0]["engagement"]
    decayed_webinar = 20 * 2 ** (-20 / rules.half_life_days)
    assert steps[1]["engagement"] == pytest.approx(decayed_webinar + 10, abs=0.01)
    between = [point for point in history if steps[0]["at"] < point["at"] < steps[1]["at"]]
    assert between and all(a["engagement"] > b["engagement"] for a, b in itertools.pairwise(between))
    assert history[-1]["at"].startswith("2026-12-04T09:00") and history[-1]["rule_id"] is None
    assert history[-1]["engagement"] == pytest.approx((decayed_webinar + 10) * 2 ** (-20 / rules.half_life_days),
                                                      abs=0.01)
    assert all(point["total"] == pytest.approx(fit + point["engagement"], abs=0.01) for point in history)


def test_a_recycled_lead_tells_the_story_of_its_current_cycle_only():
    record = LeadRecord("lead", {"scoring": {"cycle_started_at": (NOW - timedelta(days=5)).isoformat()}}, ledger=[
        ledger(NOW - timedelta(days=9), "old", 50), ledger(NOW - timedelta(days=2), "new", 5)])

    history = score_history(record, SHIPPED.scoring, NOW)

    assert [point["rule_id"] for point in history if point["rule_id"]] == ["new"]
