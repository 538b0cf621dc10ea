"""A campaign on the local system: pushed, scheduled, fanned out and sent to its segment's members only."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from nurture.local.runtime import any_time_config
from tests.conftest import REPO
from tests.local_system import RunningSystem, start_system, wait_for

pytestmark = pytest.mark.integration
SUBJECT = "【テスト号】大企業の読者へ"


@pytest.fixture(scope="module")
def sending_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = start_system(tmp_path_factory.mktemp("campaigns"), "--send-any-time", "--tick", "1")
    yield system
    system.stop_and_check_logs()


def config_with_a_campaign(into: Path, send_at: datetime) -> Path:
    """The shipped config, its window open at any hour (as the system runs), with a segment of large companies'
    readers and a campaign to them a few seconds from now."""
    any_time_config(REPO / "config", into)
    segments = yaml.safe_load((into / "segments.yaml").read_text(encoding="utf-8"))
    segments["segments"]["large_company_readers"] = {"all": [{"subscribed": True},
                                                              {"field": {"name": "employees", "min": 1000}}]}
    (into / "segments.yaml").write_text(yaml.safe_dump(segments, allow_unicode=True), encoding="utf-8")
    campaigns = yaml.safe_load((into / "campaigns.yaml").read_text(encoding="utf-8"))
    campaigns["campaigns"]["test-now"] = {"name": "テスト号", "type": "newsletter", "segment": "large_company_readers",
                                          "template": "newsletter_2027_01", "subject": {"ja": SUBJECT},
                                          "send_at": send_at.isoformat(), "seeds": ["marketing@example.co.jp"]}
    (into / "campaigns.yaml").write_text(yaml.safe_dump(campaigns, allow_unicode=True), encoding="utf-8")
    return into


def campaign_sends(system: RunningSystem, lead_id: str) -> list[dict]:
    return [event for event in system.items(f"LEAD#{lead_id}", "EVT#")
            if event["type"] == "email_sent" and event.get("campaign") == "test-now"]


def test_a_scheduled_campaign_reaches_its_segments_members_once_and_nobody_else(sending_system: RunningSystem,
                                                                                tmp_path: Path):
    leads = {}
    for employees in ("1,500名", "3000", "20"):
        email = f"reader-{uuid.uuid4().hex[:8]}@example.co.jp"
        leads[employees] = sending_system.submit("/v1/forms/contact", {
            "email": email, "name": "読者", "company": "株式会社サンプル", "employees": employees, "consent": True})
    for lead_id in leads.values():
        wait_for(lambda lead=lead_id: sending_system.items(f"LEAD#{lead}", "PROFILE")[0].get("rank_pk"), seconds=30)
    # Time enough for the push and the schedule (a few CLI runs) on a busy machine.
    config = config_with_a_campaign(tmp_path / "config", datetime.now(UTC) + timedelta(seconds=25))
    pushed = sending_system.cli("--config-dir", str(config), "config", "push", "--by", "test")
    assert pushed.returncode == 0, pushed.stderr

    scheduled = sending_system.cli("campaign", "schedule", "test-now")
    assert scheduled.returncode == 0, scheduled.stderr
    assert "to segment large_company_readers (config version 2)" in scheduled.stdout
    again = sending_system.cli("campaign", "schedule", "test-now")
    assert again.returncode == 1 and "already scheduled" in again.stderr

    members = [leads["1,500名"], leads["3000"]]
    for lead_id in members:
        wait_for(lambda lead=lead_id: campaign_sends(sending_system, lead), seconds=90)
    status = json.loads(sending_system.cli("campaign", "status", "test-now", "--json").stdout)
    assert status["status"] == "sent" and status["counts"]["sent"] == 2
    assert status["audience"]["found"] == 2 and status["audience"]["parts_done"] == status["audience"]["parts"]
    assert [len(campaign_sends(sending_system, lead)) for lead in members] == [1, 1]
    assert campaign_sends(sending_system, leads["20"]) == []
    listed = sending_system.request("GET", "/_outbox").body.decode()
    assert len(re.findall(re.escape(SUBJECT), listed)) == 2
    cancelled = sending_system.cli("campaign", "cancel", "test-now")
    assert cancelled.returncode == 0, cancelled.stderr


def test_a_test_send_goes_only_to_a_seed_marked_as_a_test(sending_system: RunningSystem):
    refused = sending_system.cli("campaign", "test", "newsletter-2027-02", "--to", "someone@example.com")
    assert refused.returncode == 1 and "is not a seed of newsletter-2027-02" in refused.stderr

    sent = sending_system.cli("campaign", "test", "newsletter-2027-02", "--to", "marketing@example.co.jp")

    assert sent.returncode == 0, sent.stderr
    wait_for(lambda: "[テスト送信] " in sending_system.request("GET", "/_outbox").body.decode(), seconds=20)
