"""A seminar on the local runtime as `make run` starts it, ticking every second, with a session an hour and a minute
away and its reminder an hour before: the registration's confirmation is in the outbox at once, its reminder
only when it is due."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.conftest import CONFIG_DIR
from tests.local_system import RunningSystem, start_system, wait_for

pytestmark = pytest.mark.integration
EVENT_ID = "scoring-seminar-2026-12"
LEAD_TIME = timedelta(hours=1, seconds=50)  # the session starts this long after the system does


@pytest.fixture(scope="module")
def seminar_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSystem, datetime]]:
    """The shipped events.yaml with its first session moved to LEAD_TIME from now (the second a week later), and
    one reminder, an hour before."""
    config = tmp_path_factory.mktemp("seminar") / "config"
    shutil.copytree(CONFIG_DIR, config)
    events = yaml.safe_load((config / "events.yaml").read_text(encoding="utf-8"))
    event = events["events"][EVENT_ID]
    zone = ZoneInfo(event["time_zone"])
    starts = (datetime.now(zone) + LEAD_TIME).replace(microsecond=0)
    for session, offset in zip(event["sessions"], (timedelta(0), timedelta(days=7)), strict=True):
        session["start"] = (starts + offset).replace(tzinfo=None).isoformat()
        session["end"] = (starts + offset + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    event["reminders_hours_before"] = [1]
    (config / "events.yaml").write_text(yaml.safe_dump(events, allow_unicode=True), encoding="utf-8")
    system = start_system(tmp_path_factory.mktemp("seminar-state"), "--tick", "1", config_dir=config)
    yield system, starts
    system.stop_and_check_logs()


def emails_to(system: RunningSystem, address: str) -> list[EmailMessage]:
    """The seminar's emails to the address, oldest first (its step emails, if the send window is open, left out)."""
    index = system.request("GET", "/_outbox").body.decode()
    seminar = r"href='/_outbox/(\d+)'>[^<]*スコアリング設計の実践[^<]*</a></td><td>"
    numbers = re.findall(seminar + re.escape(address), index)
    return [message_from_bytes(system.request("GET", f"/_outbox/{n}.eml").body, policy=default)
            for n in reversed(numbers)]


def test_the_confirmation_comes_at_once_and_the_reminder_an_hour_before_the_session(
        seminar_system: tuple[RunningSystem, datetime]):
    system, starts = seminar_system
    address = f"seminar-{uuid.uuid4().hex[:10]}@example.co.jp"
    system.submit("/v1/forms/seminar", {"email": address, "name": "受講 花子", "company": "受講工業", "title": "部長",
                                        "session": "2026-12-10", "consent": True})

    (confirmation,) = wait_for(lambda: emails_to(system, address), seconds=30)
    assert str(confirmation["Subject"]).startswith("【ミライ在庫】セミナーお申し込み完了")
    (calendar,) = list(confirmation.iter_attachments())
    assert f"DTSTART;TZID=Asia/Tokyo:{starts:%Y%m%dT%H%M%S}" in calendar.get_content()

    due = starts - timedelta(hours=1)
    assert datetime.now(starts.tzinfo) < due and len(emails_to(system, address)) == 1  # not yet
    reminded = wait_for(lambda: emails_to(system, address)[1:], seconds=150)
    arrived = datetime.now(starts.tzinfo)
    (reminder,) = reminded
    assert str(reminder["Subject"]).startswith("【ミライ在庫】まもなく開催")
    assert due <= arrived <= due + timedelta(seconds=30)  # the tick after it is due, never before
    text = reminder.get_body(("plain",)).get_content()
    assert "/v1/registrations/" in text and f"{starts:%H:%M}" in text
    time.sleep(3)  # no second reminder on the next ticks
    assert len(emails_to(system, address)) == 2


def test_the_confirmations_page_cancels_the_registration_over_http_once(seminar_system: tuple[RunningSystem, datetime]):
    system, starts = seminar_system
    address = f"cancel-{uuid.uuid4().hex[:10]}@example.co.jp"
    system.submit("/v1/forms/seminar", {"email": address, "name": "取消 次郎", "company": "取消工業", "title": "課長",
                                        "session": "2026-12-17", "consent": True})  # the session a week later
    (confirmation,) = wait_for(lambda: emails_to(system, address), seconds=30)
    (calendar,) = list(confirmation.iter_attachments())
    assert f"DTSTART;TZID=Asia/Tokyo:{starts + timedelta(days=7):%Y%m%dT%H%M%S}" in calendar.get_content()
    page = re.search(r"/v1/registrations/[A-Za-z0-9_.-]+", confirmation.get_body(("plain",)).get_content())
    assert page is not None
    shown = system.request("GET", page.group())  # a mail scanner's GET cancels nothing
    assert shown.status == 200 and '<form method="post">' in shown.body.decode()
    form = {"content-type": "application/x-www-form-urlencoded"}
    for _ in range(2):
        cancelled = system.request("POST", page.group(), body=b"", headers=form)
        assert cancelled.status == 200 and "キャンセルを承りました" in cancelled.body.decode()
    lead_id = system.lead_id(address)
    assert [e["status"] for e in system.events(f"LEAD#{lead_id}") if e["type"] == "event_cancelled"] == ["registered"]
