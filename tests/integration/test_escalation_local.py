"""A feedback deadline on the local runtime as `make run` starts it, with a calendar where a business hour is any
hour and deadlines of seconds: an unanswered handoff reminds its owner, then tells the team's lead, by email and
by their signed webhook."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
import yaml

from tests.conftest import CONFIG_DIR
from tests.local_system import RunningSystem, start_system, wait_for

pytestmark = pytest.mark.integration
ALWAYS = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59",
          "holidays": None}


@pytest.fixture(scope="module")
def hurried_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """Every lead goes to sato (east team, whose lead is suzuki); verdicts are due 5 s after, then 5 s more."""
    config = tmp_path_factory.mktemp("hurried") / "config"
    shutil.copytree(CONFIG_DIR, config)
    sales = yaml.safe_load((config / "sales.yaml").read_text(encoding="utf-8"))
    for person in sales["people"].values():
        person["working_hours"] = ALWAYS
    sales["routing"].insert(0, {"id": "all_to_sato", "strategy": "fixed", "owner": "sato", "reason": "テスト"})
    sales["feedback"] = {"remind_after_hours": 0.0014, "escalate_after_hours": 0.0014, "escalation": "team_lead"}
    (config / "sales.yaml").write_text(yaml.safe_dump(sales, allow_unicode=True), encoding="utf-8")
    system = start_system(tmp_path_factory.mktemp("escalation"), "--tick", "1", config_dir=config)
    yield system
    system.stop_and_check_logs()


def test_an_overdue_handoff_reminds_its_owner_then_escalates_to_the_team_lead(hurried_system: RunningSystem):
    email = f"late-{uuid.uuid4().hex[:10]}@example.co.jp"
    lead_id = hurried_system.submit("/v1/forms/demo", {"email": email, "name": "遅延 太郎", "company": "遅延工業",
                                                       "title": "部長", "phone": "03-0000-0000", "consent": True})

    wait_for(lambda: hurried_system.alert_email(lead_id, "sato@example.co.jp", "ホットリードの担当になりました"),
             seconds=30)
    reminder = wait_for(lambda: hurried_system.alert_email(lead_id, "sato@example.co.jp", "フィードバック期限"),
                        seconds=60)
    assert "遅延 太郎" in reminder
    escalation = wait_for(lambda: hurried_system.alert_email(lead_id, "suzuki@example.co.jp",
                                                             "担当者のフィードバックがないホットリード"), seconds=60)
    assert "担当: 佐藤 健" in escalation

    def escalated_post() -> list[dict]:
        return [post for post in hurried_system.request("GET", "/_webhooks.json").json()
                if post["event"] == "handoff.escalated" and post["body"]["handoff"]["lead_id"] == lead_id]

    (post,) = wait_for(escalated_post, seconds=30)
    assert (post["webhook"], post["signature_valid"], post["body"]["recipient"]) == ("crm_hook", True, "suzuki")
