"""Offline activity (issue 22, part 4): a meeting or a trade-show booth visit recorded through the sales API or a CSV,
on the lead's timeline and scored by scoring.yaml's rules, once per client id, with the real functions under moto."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nurture.adapters.lead_store import DynamoLeadStore
from nurture.config import load_config
from nurture.domain.clock import iso
from nurture.domain.sales.offline import Defaults, plan_activity_import, run_activity_import
from nurture.local.functions import api_request
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import TABLE_NAME, events_under, items_under, post_json, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")


def a_lead(name: str = "kaneko") -> str:
    return submit("/v1/forms/whitepaper", {"email": f"{name}@maker.example.co.jp", "name": "金子 一郎",
                                           "company": "金子製作所", "consent": True})


def record(lead_id: str, **body: Any) -> dict[str, Any]:
    return post_json(f"/v1/leads/{lead_id}/activities", {"id": "crm-1001", "type": "booth_visit", "by": "展示会チーム",
                                                         **body})


def offline_events(lead_id: str) -> list[dict[str, Any]]:
    return [event for event in events_under(f"LEAD#{lead_id}") if event["type"] == "offline"]


def test_a_booth_visit_is_on_the_lead_timeline_and_scored_by_its_rule():
    pipeline = Pipeline()
    lead_id = a_lead()
    pipeline.drain()
    at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)

    answer = record(lead_id, occurred_at=at.isoformat(), note="ブースでデモを見た\n来月に見積もり希望")

    assert answer["statusCode"] == 201, answer["body"]
    assert json.loads(answer["body"]) == {"lead_id": lead_id, "id": "crm-1001", "type": "booth_visit",
                                          "recorded": True, "occurred_at": iso(at)}
    (event,) = offline_events(lead_id)
    assert datetime.fromisoformat(event["occurred_at"]) == at
    assert (event["name"], event["by"], event["note"], event["source"]) == (
        "booth_visit", "展示会チーム", "ブースでデモを見た\n来月に見積もり希望", "api")
    pipeline.drain()
    (entry,) = [e for e in items_under(f"LEAD#{lead_id}", "SCORE#") if e.get("rule_id") == "booth_visit"]
    assert entry["delta"] == 15
    shown = json.loads(api_request("GET", f"/v1/leads/{lead_id}")["body"])
    assert any(a["type"] == "offline" and a.get("name") == "booth_visit" for a in shown["activities"])
    assert {"rule_id": "booth_visit", "kind": "engagement", "points": 15, "reason": "展示会ブース来訪 (booth visit)",
            "events": 1} in shown["breakdown"]


def test_a_retried_request_with_the_same_id_changes_nothing():
    lead_id = a_lead()
    first, again = record(lead_id), record(lead_id, note="a different body under the same id")

    assert (first["statusCode"], again["statusCode"]) == (201, 200)
    assert json.loads(again["body"])["recorded"] is False
    assert len(offline_events(lead_id)) == 1 and len(items_under(f"LEAD#{lead_id}", "RECORDED#")) == 1
    assert record(lead_id, id="crm-1002")["statusCode"] == 201  # another id is another activity
    assert len(offline_events(lead_id)) == 2


def test_an_activity_for_an_erased_or_unknown_lead_writes_nothing():
    lead_id = a_lead()
    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204

    assert record(lead_id)["statusCode"] == 404
    assert record("no-such-lead")["statusCode"] == 404
    assert items_under(f"LEAD#{lead_id}") == [] and items_under("LEAD#no-such-lead") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "coffee"}, "type"),
    ({"occurred_at": "2026-11-20T10:00:00"}, "occurred_at"),  # no offset: whose 10:00?
    ({"occurred_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}, "occurred_at"),
    ({"occurred_at": (datetime.now(UTC) - timedelta(days=800)).isoformat()}, "occurred_at"),
    ({"id": "has spaces"}, "id"),
    ({"by": "\u200b"}, "by"),
    ({"note": "x" * 2001}, "note"),
    ({"score": 100}, "score"),
])
def test_a_bad_body_is_refused_naming_the_field_and_writes_nothing(body: dict[str, Any], field: str):
    lead_id = a_lead()

    answer = record(lead_id, **body)

    assert answer["statusCode"] == 422, answer["body"]
    assert [problem["field"] for problem in json.loads(answer["body"])["errors"]] == [field]
    assert offline_events(lead_id) == []
    if field == "type":  # the answer lists the kinds there are
        assert "booth_visit" in answer["body"] and "meeting" in answer["body"]


VISITORS = ("メールアドレス,種別,日付,担当者,メモ,来場者番号\n"
            "kaneko@maker.example.co.jp,booth_visit,2026/11/20,佐藤,デモ希望,A-001\n"
            "kaneko@maker.example.co.jp,meeting,2026/11/21 14:30,佐藤,,A-001\n"
            "stranger@elsewhere.example.jp,booth_visit,2026/11/20,佐藤,,A-002\n"
            "not-an-address,booth_visit,2026/11/20,佐藤,,A-003\n"
            "kaneko@maker.example.co.jp,coffee,2026/11/20,佐藤,,A-004\n")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def imported(data: bytes) -> tuple[Any, Any]:
    rules = load_config(CONFIG_DIR).scoring
    plan = plan_activity_import(data, rules, NOW, 730, Defaults())
    return plan, run_activity_import(plan, DynamoLeadStore(TABLE_NAME), rules, NOW, 730)


def test_a_shift_jis_visitor_list_is_recorded_on_known_leads_once_and_names_what_it_could_not():
    lead_id = a_lead()

    plan, outcome = imported(VISITORS.encode("cp932"))
    _, again = imported(VISITORS.encode("cp932"))

    assert (plan.encoding, plan.rows, plan.ignored_columns) == ("cp932", 5, ["来場者番号"])
    assert [(r.row, r.reasons) for r in plan.rejected] == [
        (5, ["email: is not an address"]),
        (6, ["type: is one of booth_visit, meeting, visit, phone_call"])]
    assert (outcome.recorded, outcome.unchanged, outcome.not_leads, outcome.failed) == (2, 0, [4], [])
    assert (again.recorded, again.unchanged) == (0, 2)  # the rows' ids are hashes of what they say
    meeting = next(e for e in offline_events(lead_id) if e["name"] == "meeting")
    # A time without an offset is Tokyo's (scoring.yaml's time zone)
    assert datetime.fromisoformat(meeting["occurred_at"]) == datetime(2026, 11, 21, 5, 30, tzinfo=UTC)
    assert meeting["source"] == "import" and meeting["by"] == "佐藤"
