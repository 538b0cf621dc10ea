"""Call tasks (テレアポ): made by sales.yaml's task rules as the scorer writes a lead, listed per owner, and closed
by what came of each call, with the real functions under moto."""

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from nurture.local.functions import api_request
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import events_under, items_under, listed, post_json, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")
# A Monday in Tokyo as work starts (9:00): suzuki and sato work 9:00-18:00 on weekdays.
MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def monday() -> Iterator[None]:
    with time_machine.travel(MONDAY, tick=True):
        yield


def warm_manufacturer(pipeline: Pipeline, name: str, **fields: str) -> str:
    """A whitepaper download (rank B) from a 300-person manufacturer in Tokyo, scored."""
    lead_id = submit("/v1/forms/whitepaper", {
        "email": f"buyer@{name}.example.co.jp", "name": "製造 太郎", "company": f"{name} 工業", "title": "課長",
        "industry": "製造業", "employees": "300", "phone": "03-1234-5678", "prefecture": "東京都", "consent": True,
        **fields})
    pipeline.drain()
    return lead_id


def tasks_of(owner: str, status: str = "open") -> list[dict[str, Any]]:
    return listed("/v1/tasks", f"owner={owner}&status={status}", "tasks")


def report(task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return post_json(f"/v1/tasks/{task_id}/outcome", payload)


def called(task_id: str, outcome: str, **more: Any) -> dict[str, Any]:
    answer = report(task_id, {"outcome": outcome, "by": "鈴木", **more})
    assert answer["statusCode"] == 200, answer
    return dict(json.loads(answer["body"]))


def test_a_warm_manufacturer_with_a_phone_gets_one_call_task_owned_by_round_robin_and_due_in_business_hours():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "kasai")

    (task,) = tasks_of("suzuki")
    assert task["task_id"] == f"{lead_id}-0" and task["status"] == "open" and task["rule"] == "call_warm_manufacturers"
    # 8 business hours from Monday 9:00 in Tokyo: Monday 17:00
    assert task["due_at"].startswith("2026-12-07T08:00") and task["overdue"] is False
    assert task["lead"] == {"name": "製造 太郎", "company": "kasai 工業", "title": "課長", "department": None,
                            "email": "buyer@kasai.example.co.jp", "rank": "B", "stage": "nurturing",
                            "phone": "03-1234-5678"}
    # The caller owns the lead now (a later handoff keeps them), and its view shows the task
    assert (profile(lead_id)["owner"], profile(lead_id)["stage"]) == ("suzuki", "nurturing")
    lead = json.loads(api_request("GET", f"/v1/leads/{lead_id}")["body"])
    assert [t["task_id"] for t in lead["tasks"]] == [task["task_id"]] and lead["owner"]["id"] == "suzuki"
    # More activity in the same cycle makes no second task; the next lead is the next member's
    submit("/v1/forms/contact", {"email": "buyer@kasai.example.co.jp", "name": "製造 太郎", "company": "kasai 工業",
                                 "message": "見積もりを", "consent": True})
    pipeline.drain()
    assert len(items_under(f"LEAD#{lead_id}", "TASK#")) == 1
    other = warm_manufacturer(pipeline, "kawasaki")
    assert [t["lead_id"] for t in tasks_of("sato")] == [other]


@pytest.mark.parametrize("fields", [{"phone": ""}, {"industry": "小売業"}, {"employees": "20"}])
def test_a_lead_the_rule_does_not_match_gets_no_task(fields: dict[str, str]):
    lead_id = warm_manufacturer(Pipeline(), "other", **fields)
    assert items_under(f"LEAD#{lead_id}", "TASK#") == [] and "owner" not in profile(lead_id)


def test_a_meeting_set_on_the_call_hands_the_lead_to_the_caller_at_once():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "meet")
    answer = called(f"{lead_id}-0", "meeting_set", note="来週火曜 14時 訪問")
    assert answer == {"task_id": f"{lead_id}-0", "lead_id": lead_id, "status": "done", "attempts": 1,
                      "outcome": "meeting_set", "due_at": None, "changed": True}
    pipeline.drain()

    (message,) = pipeline.messages()
    assert message["lead_id"] == lead_id and message["owner"]["id"] == "suzuki"
    assert message["owner"]["strategy"] == "kept"
    assert message["reasons"]["patterns"] == [{"id": "call_meeting_set",
                                               "reason": "電話で商談が決まった (a meeting was set on a call)"}]
    (call,) = [e for e in events_under(f"LEAD#{lead_id}") if e["type"] == "call_outcome"]
    assert (call["outcome"], call["by"], call["note"], call["attempt"]) == ("meeting_set", "鈴木",
                                                                           "来週火曜 14時 訪問", 1)
    assert any(entry["rule_id"] == "call_meeting" for entry in items_under(f"LEAD#{lead_id}", "SCORE#"))
    assert tasks_of("suzuki") == [] and [t["outcome"] for t in tasks_of("suzuki", "done")] == ["meeting_set"]
    # A retried report changes nothing; another outcome of the closed task is a conflict
    assert called(f"{lead_id}-0", "meeting_set")["changed"] is False
    conflict = report(f"{lead_id}-0", {"outcome": "not_interested", "by": "鈴木"})
    assert conflict["statusCode"] == 409 and "task-closed" in conflict["body"]


def test_not_interested_recycles_the_lead():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "nope")
    called(f"{lead_id}-0", "not_interested")
    pipeline.drain()

    lead = profile(lead_id)
    assert lead["stage"] == "recycled" and lead["scoring"]["cycle"] == 1 and pipeline.messages() == []
    # Its points count in the new cycle, which is also why it gets no second task at once (rank C now)
    assert lead["rank"] == "C" and len(items_under(f"LEAD#{lead_id}", "TASK#")) == 1


def test_a_recycled_lead_gets_its_next_cycles_task_from_the_same_caller_and_both_are_listed():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "again")
    called(f"{lead_id}-0", "not_interested")
    pipeline.drain()
    submit("/v1/forms/contact", {"email": "buyer@again.example.co.jp", "name": "製造 太郎", "company": "again 工業",
                                 "message": "やはり相談したい", "consent": True})
    pipeline.drain()

    assert [t["task_id"] for t in tasks_of("suzuki")] == [f"{lead_id}-1"]  # kept: the caller stays the owner
    assert [t["task_id"] for t in tasks_of("suzuki", "done")] == [f"{lead_id}-0"]
    # A recycled lead is nurtured: not interested again sends it round again
    called(f"{lead_id}-1", "not_interested")
    assert profile(lead_id)["scoring"]["cycle"] == 2


def test_an_open_task_of_an_earlier_cycle_is_not_listed_and_takes_no_outcome():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "moved-on")
    assert post_json(f"/v1/leads/{lead_id}/feedback", {"outcome": "recycle"})["statusCode"] == 200

    assert tasks_of("suzuki") == []
    stale = report(f"{lead_id}-0", {"outcome": "not_interested", "by": "鈴木"})
    assert stale["statusCode"] == 409 and "earlier nurture cycle" in stale["body"]
    assert profile(lead_id)["scoring"]["cycle"] == 1  # not recycled a second time


def test_a_lead_won_since_its_task_was_made_is_not_recycled_by_a_late_not_interested():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "signed")
    assert post_json(f"/v1/leads/{lead_id}/feedback", {"outcome": "won"})["statusCode"] == 200

    late = report(f"{lead_id}-0", {"outcome": "not_interested", "by": "鈴木"})
    assert late["statusCode"] == 409 and "is won since the task was made" in late["body"]
    assert profile(lead_id)["stage"] == "won" and profile(lead_id)["scoring"]["cycle"] == 0
    # What happened on the call is still recorded
    assert called(f"{lead_id}-0", "reached")["status"] == "done"


def test_no_answer_keeps_the_task_open_until_the_rules_attempts_are_used():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "busy")
    task_id = f"{lead_id}-0"

    first = called(task_id, "no_answer", attempt=1)
    assert (first["status"], first["attempts"]) == ("open", 1)
    # The next call is due 8 business hours after this one: Monday 17:00 in Tokyo
    assert first["due_at"].startswith("2026-12-07T08:00")
    assert called(task_id, "no_answer", attempt=1)["changed"] is False  # a retried POST
    skipped = report(task_id, {"outcome": "no_answer", "by": "鈴木", "attempt": 3})
    assert skipped["statusCode"] == 422 and "attempt" in skipped["body"]
    assert called(task_id, "no_answer")["status"] == "open"
    assert called(task_id, "no_answer") == {
        "task_id": task_id, "lead_id": lead_id, "status": "done", "attempts": 3, "outcome": "no_answer",
        "due_at": None, "changed": True}
    assert tasks_of("suzuki") == []


def test_a_wrong_number_is_not_shown_or_called_again():
    pipeline = Pipeline()
    lead_id = warm_manufacturer(pipeline, "wrong")
    called(f"{lead_id}-0", "wrong_number")

    assert profile(lead_id)["phone_wrong"] == "03-1234-5678"
    (task,) = tasks_of("suzuki", "done")
    assert task["lead"]["phone"] is None and task["outcome"] == "wrong_number"


@pytest.mark.parametrize(("task_id", "payload", "status"), [
    ("0123456789abcdef0123456789abcdef-0", {"outcome": "reached", "by": "鈴木"}, 404),
    ("not_a_task", {"outcome": "reached", "by": "鈴木"}, 422),
    ("LEAD-0", {"outcome": "voicemail", "by": "鈴木"}, 422),
    ("LEAD-0", {"outcome": "reached", "by": " "}, 422),
    ("LEAD-0", {"outcome": "reached"}, 422),
    ("LEAD-0", {"outcome": "reached", "by": "鈴木", "extra": 1}, 422),
])
def test_a_bad_report_is_refused_and_changes_nothing(task_id: str, payload: dict[str, Any], status: int):
    lead_id = warm_manufacturer(Pipeline(), "bad")
    before = items_under(f"LEAD#{lead_id}", "TASK#")
    answer = report(task_id.replace("LEAD", lead_id), payload)
    assert answer["statusCode"] == status, answer
    assert items_under(f"LEAD#{lead_id}", "TASK#") == before


@pytest.mark.parametrize("query", ["", "owner=Bad Owner", "owner=suzuki&status=later", "owner=suzuki&limit=0",
                                   "owner=suzuki&cursor=bm90LWEtY3Vyc29y"])
def test_bad_task_list_queries_are_422(query: str):
    answer = api_request("GET", "/v1/tasks", query=query)
    assert answer is not None and answer["statusCode"] == 422, answer


def test_a_task_rule_that_calls_instead_of_handing_off_holds_the_handoff_until_a_meeting_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from nurture.settings import reload

    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    sales = (tmp_path / "config" / "sales.yaml").read_text(encoding="utf-8")
    first = ("tasks:\n  - id: call_hot_first\n    when: {rank: [A], phone: true}\n    strategy: fixed\n"
             "    owner: sato\n    instead_of_handoff: true\n    reason: ホットリードはまず電話\n")
    (tmp_path / "config" / "sales.yaml").write_text(sales.replace("tasks:\n", first, 1), encoding="utf-8")
    monkeypatch.setenv("NURTURE_CONFIG_DIR", str(tmp_path / "config"))
    reload()
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/demo", {"email": "boss@hot.example.co.jp", "name": "熱い 花子", "company": "熱い商事",
                                        "title": "部長", "phone": "06-1111-2222", "consent": True})
    pipeline.drain()

    # Hot, but called first: no handoff, the sequence goes on, sato has the task
    assert pipeline.messages() == [] and profile(lead_id)["stage"] == "nurturing"
    assert [t["rule"] for t in tasks_of("sato")] == ["call_hot_first"]
    submit("/v1/forms/contact", {"email": "boss@hot.example.co.jp", "name": "熱い 花子", "company": "熱い商事",
                                 "message": "至急", "consent": True})
    pipeline.drain()
    assert pipeline.messages() == []  # still waiting for the call
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        called(f"{lead_id}-0", "meeting_set")
    pipeline.drain()
    (message,) = pipeline.messages()
    assert message["owner"]["id"] == "sato" and profile(lead_id)["stage"] == "handed_off"
