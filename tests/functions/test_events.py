"""Seminars through the real handlers: a seminar form's post registers the lead for the session it chose, once,
within the session's capacity (beyond it, on the waitlist), and the confirmation carries the session's calendar
file; after the session, its attendance report marks each registrant, scores it and sends the follow-up."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar

from nurture import keys
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.cli import main as cli
from nurture.cli.target import Target
from nurture.config import load_config
from nurture.domain.report import build_report, default_period
from nurture.local.functions import api_request
from nurture.settings import reload
from tests.attendance_reports import teams_ja
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import TABLE_NAME, all_items, events_under, items_under, lead_id_of, post_form
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import dispatch_and_send, outbox, send_queue

pytestmark = pytest.mark.usefixtures("aws")

EVENT_ID = "scoring-seminar-2026-12"
POSTED = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def register(address: str, session: str = "2026-12-10", at: datetime = POSTED) -> dict:
    """A browser's post of the seminar form, scored, its registration made and its email sent."""
    pipeline = Pipeline()
    with time_machine.travel(at, tick=False):
        answer = post_form("/v1/forms/seminar", {"email": address, "name": "佐藤 花子", "company": "株式会社サンプル",
                                                 "title": "部長", "session": session, "consent": "on"})
        pipeline.drain()
        send_queue().drain()
    return answer


def emails_to(address: str) -> list:
    return [email for email in outbox() if email["To"] == address]


def confirmations(address: str) -> list:
    """The registration confirmations to the address (its step emails left out)."""
    return [email for email in emails_to(address)
            if str(email["Subject"]).startswith("【ミライ在庫】セミナーお申し込み完了")]


def session_counts(session: str) -> dict:
    (counter,) = items_under(keys.event_pk(EVENT_ID), keys.session_sk(session))
    return {name: int(counter.get(name, 0)) for name in ("registered", "waitlisted")}


def attendance_counts(session: str) -> dict:
    (counter,) = items_under(keys.event_pk(EVENT_ID), keys.session_sk(session))
    return {name: int(counter.get(name, 0)) for name in ("attended", "no_show")}


@pytest.fixture
def small_session(aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The shipped config with the first session's capacity at two."""
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    events = tmp_path / "config" / "events.yaml"
    events.write_text(events.read_text(encoding="utf-8").replace("capacity: 100,", "capacity: 2,", 1),
                      encoding="utf-8")
    monkeypatch.setenv("NURTURE_CONFIG_DIR", str(tmp_path / "config"))
    reload()


def test_a_seminar_post_registers_the_lead_and_its_confirmation_carries_the_sessions_calendar_file():
    answer = register("seminar@example.co.jp", "2026-12-17")
    assert answer["statusCode"] == 303
    (email,) = emails_to("seminar@example.co.jp")
    assert email["Subject"] == "【ミライ在庫】セミナーお申し込み完了：スコアリング設計の実践（オンラインセミナー）"
    text = email.get_body(("plain",)).get_content()
    assert "日時：2026年12月17日(木) 14:00〜15:00" in text and "https://webinar.example.co.jp/j/20261217" in text
    assert "List-Unsubscribe" not in email and "/v1/t/" not in email.as_string()
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == "seminar.ics"
    (entry,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert entry.decoded("DTSTART") == datetime(2026, 12, 17, 5, 0, tzinfo=UTC)
    lead_id = lead_id_of("seminar@example.co.jp")
    (registration,) = items_under(keys.event_pk(EVENT_ID), keys.registration_sk(lead_id))
    assert (registration["status"], registration["session"]) == ("registered", "2026-12-17")
    assert session_counts("2026-12-17") == {"registered": 1, "waitlisted": 0}


def test_a_second_post_for_the_same_event_keeps_the_first_registration_and_sends_nothing_more():
    register("twice@example.co.jp", "2026-12-10")
    register("twice@example.co.jp", "2026-12-17", POSTED + timedelta(hours=2))
    assert len(emails_to("twice@example.co.jp")) == 1
    assert session_counts("2026-12-10") == {"registered": 1, "waitlisted": 0}
    assert not [item for item in all_items() if item["SK"] == keys.session_sk("2026-12-17")]


@pytest.mark.usefixtures("small_session")
def test_beyond_its_capacity_a_session_puts_registrations_on_its_waitlist_in_order():
    for number in range(4):
        register(f"guest{number}@example.co.jp", at=POSTED + timedelta(minutes=number))
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 2}
    for number in range(2):
        (email,) = emails_to(f"guest{number}@example.co.jp")
        assert email["Subject"].startswith("【ミライ在庫】セミナーお申し込み完了") and list(email.iter_attachments())
    for number in (2, 3):
        (email,) = emails_to(f"guest{number}@example.co.jp")
        assert email["Subject"].startswith("【ミライ在庫】キャンセル待ちで承りました")
        assert not list(email.iter_attachments())
    waiting = [item["lead_id"] for item in items_under(keys.event_pk(EVENT_ID), "WAIT#")]
    assert waiting == [lead_id_of("guest2@example.co.jp"), lead_id_of("guest3@example.co.jp")]  # first come first


@pytest.mark.usefixtures("small_session")
def test_a_registered_lead_is_reminded_the_day_before_and_an_hour_before_and_a_waitlisted_one_is_not():
    for number in range(3):  # two places, then the waitlist
        register(f"guest{number}@example.co.jp", at=POSTED + timedelta(minutes=number))
    starts = datetime(2026, 12, 10, 5, 0, tzinfo=UTC)  # 14:00 in Tokyo

    def reminders(subject: str) -> list[str]:
        return sorted(str(email["To"]) for email in outbox() if str(email["Subject"]).startswith(subject))

    dispatch_and_send(starts - timedelta(hours=24, minutes=1))
    assert reminders("【ミライ在庫】明日開催") == []
    dispatch_and_send(starts - timedelta(hours=23, minutes=59))
    assert reminders("【ミライ在庫】明日開催") == ["guest0@example.co.jp", "guest1@example.co.jp"]
    (email,) = [e for e in outbox()
                if str(e["Subject"]).startswith("【ミライ在庫】明日開催") and e["To"] == "guest0@example.co.jp"]
    assert "日時：2026年12月10日(木) 14:00〜15:00" in email.get_body(("plain",)).get_content()
    dispatch_and_send(starts - timedelta(minutes=59))
    assert reminders("【ミライ在庫】まもなく開催") == ["guest0@example.co.jp", "guest1@example.co.jp"]
    dispatch_and_send(starts - timedelta(minutes=30))  # nothing more: each registration left the due index
    assert len(reminders("【ミライ在庫】明日開催")) + len(reminders("【ミライ在庫】まもなく開催")) == 4
    assert not [item for item in items_under(keys.event_pk(EVENT_ID), "REG#") if item.get("due_pk")]


def test_a_session_under_way_or_a_lead_still_to_confirm_its_address_gets_no_seat():
    register("late@example.co.jp", "2026-12-10", datetime(2026, 12, 10, 5, 30, tzinfo=UTC))  # 14:30: begun
    assert emails_to("late@example.co.jp") == []
    pipeline = Pipeline()
    with time_machine.travel(POSTED, tick=False):  # a newsletter sign-up still unconfirmed
        post_form("/v1/forms/newsletter", {"email": "unconfirmed@example.co.jp", "consent": "on"})
        pipeline.drain()
        send_queue().drain()
    register("unconfirmed@example.co.jp", "2026-12-10", POSTED + timedelta(minutes=5))
    assert [str(email["Subject"]) for email in emails_to("unconfirmed@example.co.jp")] == [
        "【ミライ在庫】メールマガジン登録のご確認"]
    assert not items_under(keys.event_pk(EVENT_ID))


def test_erasing_a_registered_lead_gives_its_seat_back_and_leaves_nothing_of_it_under_the_event():
    register("erase-me@example.co.jp", "2026-12-10")
    register("stays@example.co.jp", "2026-12-10", POSTED + timedelta(minutes=1))
    lead_id = lead_id_of("erase-me@example.co.jp")
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 0}
    erased = api_request("DELETE", f"/v1/leads/{lead_id}")
    assert erased is not None and erased["statusCode"] == 204
    assert session_counts("2026-12-10") == {"registered": 1, "waitlisted": 0}
    # No registration, pointer or reminder; only the post's duplicate guard, which its TTL removes in minutes.
    assert not [item for item in all_items() if lead_id in str(item) and not item["PK"].startswith("DEDUPE#")]


def test_a_sessions_attendance_report_marks_scores_and_follows_up_each_registrant_once(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    for address in ("came@example.co.jp", "away@example.co.jp"):
        register(address, "2026-12-10")
    register("other-day@example.co.jp", "2026-12-17")
    after = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)  # 16:00 in Tokyo
    report = tmp_path / "出席者レポート.csv"
    report.write_bytes(teams_ja([("came@example.co.jp", "2026/12/10 13:58:12", "2026/12/10 15:00:00", 62),
                                 ("stranger@example.co.jp", "2026/12/10 14:00:00", "2026/12/10 15:00:00", 60)]))
    monkeypatch.setattr(cli, "_target", lambda args: Target("moto", {"TABLE_NAME": TABLE_NAME}, ""))
    pipeline = Pipeline()

    def import_report(at: datetime) -> dict:
        with time_machine.travel(at, tick=False):
            capsys.readouterr()  # the functions' log lines so far
            assert cli.main(["--config-dir", str(CONFIG_DIR), "events", "attendance", EVENT_ID, str(report),
                             "--json"]) == 0
            printed = capsys.readouterr().out
            pipeline.drain()
            send_queue().drain()
        return json.loads(printed)

    summary = import_report(after)
    assert summary == {"event": EVENT_ID, "session": "2026-12-10", "rows": 2, "encoding": "utf-16", "people": 2,
                       "came": 2, "without_address": 0, "unknown_columns": [], "rejected": [], "attended": 1,
                       "no_show": 1, "walk_ins": 0, "unchanged": 0, "not_leads": [11], "failed": []}
    assert attendance_counts("2026-12-10") == {"attended": 1, "no_show": 1}
    came, away = lead_id_of("came@example.co.jp"), lead_id_of("away@example.co.jp")
    for lead_id, marked in ((came, "event_attended"), (away, "event_no_show")):
        assert [e["type"] for e in events_under(keys.lead_pk(lead_id)) if e["type"].startswith("event_")] == [marked]
    assert [entry["delta"] for entry in items_under(keys.lead_pk(came), keys.LEDGER_PREFIX)
            if entry.get("rule_id") == "event_attended"] == [30]
    (thanks,) = [e for e in emails_to("came@example.co.jp") if "ご参加ありがとうございました" in str(e["Subject"])]
    text = thanks.get_body(("plain",)).get_content()
    assert "/v1/d/" in text and "https://webinar.example.co.jp/recordings/scoring-seminar-2026-12" in text
    (missed,) = [e for e in emails_to("away@example.co.jp") if "当日の内容をご覧いただけます" in str(e["Subject"])]
    assert "/v1/d/" not in missed.get_body(("plain",)).get_content()
    assert len(emails_to("other-day@example.co.jp")) == 1  # its confirmation only: another session's report
    # The same report again: nothing changes, nothing more is sent.
    again = import_report(after + timedelta(hours=1))
    assert (again["attended"], again["no_show"], again["unchanged"]) == (0, 0, 2)
    assert attendance_counts("2026-12-10") == {"attended": 1, "no_show": 1}
    assert len(emails_to("came@example.co.jp")) == 2 and len(emails_to("away@example.co.jp")) == 2
    config = load_config(CONFIG_DIR)
    period = default_period(after.date(), ZoneInfo("Asia/Tokyo"))
    funnel = build_report(DynamoLeadStore(TABLE_NAME).report_items(), period, config.sequences, config.scoring, after,
                          events_config=config.events)["events"][0]
    assert [(row["registered"], row["attended"], row["no_show"], row["handed_off"]) for row in funnel["sessions"]] == [
        (2, 1, 1, 1), (1, 0, 0, 0)]  # the attendee became hot at once and was handed off


def test_an_attendance_report_is_refused_before_its_session_ends_or_for_an_unknown_event(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    register("early@example.co.jp", "2026-12-10")
    report = tmp_path / "report.csv"
    report.write_bytes(teams_ja([("early@example.co.jp", "2026/12/10 13:58:12", "2026/12/10 15:00:00", 62)]))
    monkeypatch.setattr(cli, "_target", lambda args: Target("moto", {"TABLE_NAME": TABLE_NAME}, ""))
    with time_machine.travel(datetime(2026, 12, 10, 5, 30, tzinfo=UTC), tick=False):  # 14:30: under way
        assert cli.main(["--config-dir", str(CONFIG_DIR), "events", "attendance", EVENT_ID, str(report)]) == 1
        assert cli.main(["--config-dir", str(CONFIG_DIR), "events", "attendance", "no-such", str(report)]) == 2
    errors = capsys.readouterr().err
    assert "import its report after it ends" in errors and "no event 'no-such'" in errors
    assert not [item for item in all_items() if item["SK"].startswith(("ATTENDANCE#",))]


def registration_link(address: str) -> str:
    """The registration page's path in the lead's first email (its confirmation or waitlist notice)."""
    email = emails_to(address)[0]
    found = re.search(r"(/v1/registrations/[A-Za-z0-9_.-]+)", email.get_body(("plain",)).get_content())
    assert found is not None
    return found.group(1)


def open_page(method: str, path: str, at: datetime) -> dict:
    pipeline = Pipeline()
    with time_machine.travel(at, tick=False):
        response = api_request(method, path, headers={"content-type": "application/x-www-form-urlencoded"},
                               body=b"" if method == "POST" else None)
        pipeline.drain()
        send_queue().drain()
    assert response is not None
    return response


@pytest.mark.usefixtures("small_session")
def test_cancelling_through_the_emails_link_gives_the_seat_to_the_first_on_the_waitlist():
    for number in range(4):  # two places, then two waiting
        register(f"guest{number}@example.co.jp", at=POSTED + timedelta(minutes=number))
    link = registration_link("guest0@example.co.jp")
    later = POSTED + timedelta(hours=1)

    page = open_page("GET", link, later)  # a mail scanner's GET cancels nothing
    assert page["statusCode"] == 200 and '<form method="post">' in page["body"]
    assert "申し込みをキャンセルする" in page["body"] and "2026年12月10日(木) 14:00〜15:00" in page["body"]
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 2}

    done = open_page("POST", link, later)
    assert done["statusCode"] == 200 and "キャンセルを承りました" in done["body"]
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 1}
    first, second = lead_id_of("guest2@example.co.jp"), lead_id_of("guest3@example.co.jp")
    (promoted,) = items_under(keys.event_pk(EVENT_ID), keys.registration_sk(first))
    assert promoted["status"] == "registered" and promoted["due_pk"] == keys.EVENTS_DUE  # reminded like the rest
    assert [item["lead_id"] for item in items_under(keys.event_pk(EVENT_ID), "WAIT#")] == [second]
    _, confirmation = emails_to("guest2@example.co.jp")  # its waitlist notice, then its place
    assert confirmation["Subject"].startswith("【ミライ在庫】セミナーお申し込み完了")
    assert list(confirmation.iter_attachments())
    cancelled = lead_id_of("guest0@example.co.jp")
    assert not items_under(keys.event_pk(EVENT_ID), keys.registration_sk(cancelled))
    (pointer,) = items_under(keys.lead_pk(cancelled), keys.EVENT_PLACE_PREFIX)
    assert pointer["status"] == "cancelled"  # an erasure finds nothing to give back
    assert [e["status"] for e in events_under(keys.lead_pk(cancelled)) if e["type"] == "event_cancelled"] == [
        "registered"]

    again = open_page("POST", link, later + timedelta(minutes=5))  # a second press: nothing more
    assert again["statusCode"] == 200 and "キャンセルを承りました" in again["body"]
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 1}
    assert len(emails_to("guest3@example.co.jp")) == 1  # still waiting

    waiting = registration_link("guest3@example.co.jp")  # leaving the waitlist frees no seat
    assert "キャンセル待ちを取り消す" in open_page("GET", waiting, later)["body"]
    open_page("POST", waiting, later)
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 0}
    assert not items_under(keys.event_pk(EVENT_ID), "WAIT#")


def test_a_registration_link_after_the_session_began_or_forged_cancels_nothing():
    register("keeps@example.co.jp", "2026-12-10")
    link = registration_link("keeps@example.co.jp")
    started = open_page("POST", link, datetime(2026, 12, 10, 5, 1, tzinfo=UTC))  # 14:01 in Tokyo
    assert started["statusCode"] == 410 and "すでに始まっています" in started["body"]
    payload, signature = link.removeprefix("/v1/registrations/").split(".")
    forged = open_page("POST", f"/v1/registrations/{payload}.{signature[::-1]}", POSTED + timedelta(hours=1))
    assert forged["statusCode"] == 400
    assert session_counts("2026-12-10") == {"registered": 1, "waitlisted": 0}


@pytest.mark.usefixtures("small_session")
def test_a_tick_offers_a_seat_an_erasure_freed_or_a_raised_capacity_added_to_the_waitlist(tmp_path: Path):
    for number in range(4):  # two places, then two waiting
        register(f"guest{number}@example.co.jp", at=POSTED + timedelta(minutes=number))
    erased = api_request("DELETE", f"/v1/leads/{lead_id_of('guest0@example.co.jp')}")
    assert erased is not None and erased["statusCode"] == 204
    assert session_counts("2026-12-10") == {"registered": 1, "waitlisted": 2}  # no activity: nothing promoted yet

    dispatch_and_send(POSTED + timedelta(hours=1))
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 1}
    assert len(confirmations("guest2@example.co.jp")) == 1
    dispatch_and_send(POSTED + timedelta(hours=1, minutes=1))  # full again: nothing more
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 1}

    events = tmp_path / "config" / "events.yaml"  # the small_session fixture's copy: a larger room
    events.write_text(events.read_text(encoding="utf-8").replace("capacity: 2,", "capacity: 3,", 1), encoding="utf-8")
    reload()
    dispatch_and_send(POSTED + timedelta(hours=2))
    assert session_counts("2026-12-10") == {"registered": 3, "waitlisted": 0}
    assert len(confirmations("guest3@example.co.jp")) == 1 and len(confirmations("guest2@example.co.jp")) == 1


@pytest.mark.usefixtures("small_session")
def test_a_post_while_people_wait_joins_the_waitlist_and_a_redelivered_offer_promotes_once():
    from nurture.adapters.send_queue import SendQueue
    from nurture.domain.events.requests import PromotionMessage
    from tests.functions.step_emails import RESOURCES

    for number in range(3):  # two places, one waiting
        register(f"guest{number}@example.co.jp", at=POSTED + timedelta(minutes=number))
    erased = api_request("DELETE", f"/v1/leads/{lead_id_of('guest0@example.co.jp')}")
    assert erased is not None and erased["statusCode"] == 204
    register("newcomer@example.co.jp", at=POSTED + timedelta(minutes=10))  # a seat is free, but guest2 was first
    assert session_counts("2026-12-10") == {"registered": 1, "waitlisted": 2}
    offer = PromotionMessage.of(lead_id="-", event_id=EVENT_ID, session_id="2026-12-10", offer_id="offer-1")
    with time_machine.travel(POSTED + timedelta(hours=1), tick=False):
        SendQueue(RESOURCES.queue_url(RESOURCES.send_queue)).send_batch([offer, offer])  # as if redelivered
        send_queue().drain()
    assert session_counts("2026-12-10") == {"registered": 2, "waitlisted": 1}
    assert len(confirmations("guest2@example.co.jp")) == 1 and confirmations("newcomer@example.co.jp") == []


def test_registering_again_after_cancelling_sends_a_new_confirmation():
    register("again@example.co.jp", "2026-12-10")
    open_page("POST", registration_link("again@example.co.jp"), POSTED + timedelta(minutes=30))
    register("again@example.co.jp", "2026-12-17", POSTED + timedelta(hours=1))  # the other session, this time
    assert len(confirmations("again@example.co.jp")) == 2
    assert session_counts("2026-12-10") == {"registered": 0, "waitlisted": 0}
    assert session_counts("2026-12-17") == {"registered": 1, "waitlisted": 0}
