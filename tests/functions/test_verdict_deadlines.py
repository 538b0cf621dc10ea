"""A hot lead's owner who gives no verdict is reminded, then their team's lead hears of it; the real scoring,
handoff, dispatcher, sales API and notifier functions under moto, the clock moved with time_machine."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from nurture.local.functions import api_request, invoke
from nurture.local.queues import scheduled_event
from tests.conftest import CONFIG_DIR
from tests.functions.alerting import RESOURCES, Receiver, alert_emails, notifier
from tests.functions.helpers import events_under, items_under, profile
from tests.functions.pipeline import Pipeline
from tests.functions.test_routing import large_companies_turn_hot

pytestmark = pytest.mark.usefixtures("aws")
# A Monday morning in Tokyo: smith (Mon-Thu 10:00-17:00) and tanaka (Mon-Fri 9:00-18:00) are at work.
HANDED_OFF = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)


def tick(at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        answer: dict = invoke("dispatcher", scheduled_event(RESOURCES.region, at))
        notifier().drain()
    return answer


def accept(lead_id: str, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        answer = api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                             body=json.dumps({"outcome": "accepted"}).encode())
    assert answer is not None and answer["statusCode"] == 200


def smiths_lead() -> str:
    """A large company's lead handed to smith: tanaka, the enterprise team's lead, has one already, and has
    accepted it."""
    pipeline = Pipeline()
    with time_machine.travel(HANDED_OFF, tick=False):
        tanakas, lead_id = large_companies_turn_hot(pipeline, "big-one", "big-two")
    assert profile(lead_id)["owner"] == "smith"
    accept(tanakas, HANDED_OFF + timedelta(minutes=5))
    notifier().drain()  # the handoffs' own alerts
    return lead_id


def verdict_due_at(lead_id: str) -> datetime:
    (deadline,) = items_under(f"LEAD#{lead_id}", "FEEDBACK")
    return datetime.fromisoformat(str(deadline["due_sk"]).split("#")[0])


def test_an_unanswered_handoff_reminds_its_owner_then_tells_the_team_lead(receiver: Receiver):
    lead_id = smiths_lead()
    due = verdict_due_at(lead_id)
    # 24 of smith's business hours: Monday 10:30 in Tokyo to 17:00 is 6.5, Tuesday and Wednesday 7 each, then
    # Thursday 10:00 + 3.5 h
    assert due == datetime(2026, 12, 10, 4, 30, tzinfo=UTC)
    sent_before = len(alert_emails())

    assert tick(due - timedelta(minutes=1))["verdicts_reminded"] == 0
    assert tick(due + timedelta(seconds=30))["verdicts_reminded"] == 1
    assert tick(due + timedelta(minutes=1))["verdicts_reminded"] == 0  # once

    (reminder,) = alert_emails()[sent_before:]
    assert reminder["To"] == "smith@example.co.jp"
    assert reminder["Subject"] == "[Nurture] A hot lead is waiting for your verdict (A)"

    escalate_at = verdict_due_at(lead_id)
    assert escalate_at > due
    assert tick(escalate_at + timedelta(seconds=30))["verdicts_escalated"] == 1
    (escalation,) = alert_emails()[sent_before + 1:]
    assert escalation["To"] == "tanaka@example.co.jp"
    assert escalation["Subject"] == "[Nurture] 担当者のフィードバックがないホットリード (A)"
    assert "担当: Alex Smith" in escalation.get_content()
    events = [post.event for post in receiver.alerts() if post.webhook == "enterprise_teams"]
    assert events[-1] == "handoff.escalated" and all(post.signature_valid for post in receiver.alerts())
    assert items_under(f"LEAD#{lead_id}", "FEEDBACK") == [] and profile(lead_id)["owner"] == "smith"


def test_a_verdict_in_time_ends_the_deadline(receiver: Receiver):
    lead_id = smiths_lead()
    due = verdict_due_at(lead_id)
    accept(lead_id, HANDED_OFF + timedelta(hours=2))
    sent_before = len(alert_emails())

    assert items_under(f"LEAD#{lead_id}", "FEEDBACK") == []
    answer = tick(due + timedelta(days=30))
    assert (answer["verdicts_reminded"], answer["verdicts_escalated"]) == (0, 0)
    assert alert_emails()[sent_before:] == []


def test_with_escalation_by_reassignment_the_team_lead_gets_the_lead(receiver: Receiver, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    from nurture.settings import reload

    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    sales = (tmp_path / "config" / "sales.yaml").read_text(encoding="utf-8")
    quick = "\nfeedback: {remind_after_hours: 2, escalate_after_hours: 1, escalation: reassign}\n"
    (tmp_path / "config" / "sales.yaml").write_text(sales + quick, encoding="utf-8")
    monkeypatch.setenv("NURTURE_CONFIG_DIR", str(tmp_path / "config"))
    reload()
    lead_id = smiths_lead()

    tick(verdict_due_at(lead_id) + timedelta(seconds=1))
    assert tick(verdict_due_at(lead_id) + timedelta(seconds=1))["verdicts_escalated"] == 1

    assert profile(lead_id)["owner"] == "tanaka"
    (changed,) = [e for e in events_under(f"LEAD#{lead_id}") if e["type"] == "owner_changed"]
    assert (changed["from"], changed["to"], changed["by"], changed["reason"]) == (
        "smith", "tanaka", "nurture", "no verdict in 3 business hours")
    # tanaka now owes the verdict, on tanaka's own calendar
    (deadline,) = items_under(f"LEAD#{lead_id}", "FEEDBACK")
    assert (deadline["owner"], deadline["step"]) == ("tanaka", "remind")


def test_a_lead_given_to_a_colleague_gives_them_a_full_deadline_of_their_own(receiver: Receiver):
    lead_id = smiths_lead()
    at = HANDED_OFF + timedelta(days=1)  # Tuesday 10:30 in Tokyo
    with time_machine.travel(at, tick=False):
        answer = api_request("POST", f"/v1/leads/{lead_id}/owner", headers={"content-type": "application/json"},
                             body=json.dumps({"owner": "ito", "by": "山田 部長", "reason": "関西の案件"}).encode())
    assert answer is not None and answer["statusCode"] == 200
    (deadline,) = items_under(f"LEAD#{lead_id}", "FEEDBACK")
    # ito works 9:00-18:00: Tuesday 7.5 h, Wednesday 9, Thursday 7.5 → Thursday 16:30 in Tokyo
    assert (deadline["owner"], verdict_due_at(lead_id)) == ("ito", datetime(2026, 12, 10, 7, 30, tzinfo=UTC))
    sent_before = len(alert_emails())

    assert tick(verdict_due_at(lead_id) + timedelta(seconds=1))["verdicts_reminded"] == 1

    (reminder,) = alert_emails()[sent_before:]
    assert reminder["To"] == "ito@example.co.jp" and "担当変更 (reassigned)" in reminder.get_content()
    slack = [post.json() for post in receiver.alerts() if post.webhook == "west_slack"]
    assert slack and slack[-1]["blocks"][0]["text"]["text"] == "ホットリードのフィードバック期限を過ぎました"


def test_a_lead_given_back_to_a_queue_owes_no_verdict(receiver: Receiver):
    lead_id = smiths_lead()
    with time_machine.travel(HANDED_OFF + timedelta(hours=1), tick=False):
        answer = api_request("POST", f"/v1/leads/{lead_id}/owner", headers={"content-type": "application/json"},
                             body=json.dumps({"owner": "unassigned", "by": "smith", "reason": "担当外"}).encode())
    assert answer is not None and answer["statusCode"] == 200
    assert items_under(f"LEAD#{lead_id}", "FEEDBACK") == []
