"""Replies: a step email's Reply-To, a reply to it stored in the reply bucket and handed to the replies function
with SES receiving's event, under moto, through the same path `nurture reply` takes."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import boto3
import pytest

from nurture.adapters.alert_queue import AlertQueue
from nurture.domain.clock import utc_now
from nurture.domain.errors import StoreUnavailable
from nurture.inbound.replies import NotAReceipt
from nurture.local.functions import api_request, invoke
from nurture.local.replies import receipt_event, receive, reply_message
from nurture.topology import REPLY_OBJECT_PREFIX
from tests.functions.alerting import Receiver, alert_emails, notifier
from tests.functions.helpers import events_under, items_under, profile
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import RESOURCES, dispatch_and_send, due_at, enrolled, outbox
from tests.functions.test_routing import demo_request

pytestmark = pytest.mark.usefixtures("aws")
EVENTS = Path(__file__).resolve().parents[2] / "events"


def first_email() -> tuple[str, EmailMessage]:
    """A lead enrolled by the contact form, sent its first step email."""
    lead_id = enrolled()
    dispatch_and_send(due_at(lead_id))
    (email,) = outbox()
    return lead_id, email


def reply_to(email: EmailMessage, text: str, *, subject: str | None = None, sender: str | None = None,
             **headers: str) -> bytes:
    """What a mail client sends when the person answers `email` (`sender`: another From than its To)."""
    if sender is not None:
        del email["To"]
        email["To"] = sender
    return reply_message(email, text, utc_now(), subject, {name.replace("_", "-"): value
                                                           for name, value in headers.items()})


def test_every_step_email_carries_a_reply_address_signed_for_its_lead_and_message():
    _, email = first_email()
    local, _, domain = email["Reply-To"].partition("@")
    assert domain == RESOURCES.reply_domain and local.startswith("r+") and len(local) == 57


def test_a_persons_reply_is_recorded_once_makes_the_lead_hot_and_stops_its_step_emails():
    lead_id, email = first_email()
    pipeline = Pipeline()
    raw = reply_to(email, "ぜひ一度、詳しくお話を伺いたいです。来週ご都合いかがでしょうか。")

    assert receive(raw, RESOURCES) == {"recorded": 1}
    (reply,) = [event for event in events_under(f"LEAD#{lead_id}") if event["type"] == "email_reply"]
    assert reply["excerpt"] == "ぜひ一度、詳しくお話を伺いたいです。来週ご都合いかがでしょうか。"
    assert reply["sequence"] == profile(lead_id)["sequence"]["sequence"] and reply["template"] == "know_how"
    (marker,) = items_under(f"LEAD#{lead_id}", "SEND#")
    assert reply["message_id"] == marker["SK"].removeprefix("SEND#") and reply["subject"].startswith("Re: ")

    pipeline.drain()
    lead = profile(lead_id)
    # Stopped: the reply handed the lead off in the same scoring, the first of its sequence's stop rules to hold
    assert lead["sequence"]["stopped"] == "handed_off" and "due_sk" not in lead
    (handoff,) = pipeline.messages()
    assert handoff["lead_id"] == lead_id
    assert {"id": "reply_is_hot", "reason": "メールへの返信は即ホットリード (a reply is read by a person at once)"} \
        in handoff["reasons"]["patterns"]


def test_the_same_reply_delivered_again_changes_nothing():
    lead_id, email = first_email()
    raw = reply_to(email, "資料ありがとうございました。")
    s3 = boto3.client("s3", region_name=RESOURCES.region)
    s3.put_object(Bucket=RESOURCES.reply_bucket, Key=f"{REPLY_OBJECT_PREFIX}same-message", Body=raw)
    event = json.loads((EVENTS / "replies-receipt.json").read_text(encoding="utf-8"))
    record = event["Records"][0]["ses"]
    record["mail"]["messageId"] = "same-message"
    record["receipt"]["recipients"] = [str(email["Reply-To"])]

    assert invoke("replies", event) == {"recorded": 1}
    assert invoke("replies", event) == {"duplicate": 1}  # Lambda's asynchronous retry, or SES's redelivery
    assert len([e for e in events_under(f"LEAD#{lead_id}") if e["type"] == "email_reply"]) == 1


def test_an_out_of_office_reply_is_kept_but_scores_and_stops_nothing():
    lead_id, email = first_email()
    pipeline = Pipeline()
    raw = reply_to(email, "誠に勝手ながら、12月10日まで不在にしております。", subject="自動返信: ご案内",
                   Auto_Submitted="auto-replied")

    assert receive(raw, RESOURCES) == {"automatic": 1}
    pipeline.drain()
    (kept,) = [event for event in events_under(f"LEAD#{lead_id}") if event["type"] == "email_auto_reply"]
    assert "excerpt" not in kept and kept["why"] == "auto-submitted"
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] is None and pipeline.messages() == []


@pytest.mark.parametrize("text", ["配信停止をお願いします。", "Please unsubscribe me from these emails."])
def test_a_reply_asking_to_stop_leaves_that_emails_type_only(text: str):
    lead_id, email = first_email()
    raw = reply_to(email, text)

    assert receive(raw, RESOURCES) == {"opted_out": 1}
    lead = profile(lead_id)
    (kind,) = [name for name, entry in lead["subscriptions"].items() if entry["choice"] == "out"]
    assert lead["subscriptions"][kind]["via"] == "reply" and lead["status"] == "active"
    assert [e["subscription_type"] for e in events_under(f"LEAD#{lead_id}") if e["type"] == "opt_out"] == [kind]
    assert not any(event["type"] == "email_reply" for event in events_under(f"LEAD#{lead_id}"))
    assert receive(raw, RESOURCES) == {"duplicate": 1}  # asked twice: left once


def test_a_reply_from_an_erased_lead_writes_nothing():
    lead_id, email = first_email()
    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204

    assert receive(reply_to(email, "配信停止をお願いします。"), RESOURCES) == {"lead_gone": 1}
    assert receive(reply_to(email, "まだ検討中です。"), RESOURCES) == {"lead_gone": 1}
    assert items_under(f"LEAD#{lead_id}") == []


def test_mail_to_an_address_nurture_did_not_sign_is_counted_and_stored_nowhere():
    lead_id, email = first_email()
    genuine = str(email["Reply-To"])
    forged = genuine[:2] + ("b" if genuine[2] == "a" else "a") + genuine[3:]
    del email["Reply-To"]
    email["Reply-To"] = forged
    before = items_under(f"LEAD#{lead_id}")

    assert receive(reply_to(email, "興味があります"), RESOURCES) == {"unknown_address": 1}
    assert items_under(f"LEAD#{lead_id}") == before


def test_a_reply_without_its_tag_is_found_by_the_message_id_ses_gave_the_email_sent_to_its_sender():
    lead_id, email = first_email()
    (marker,) = items_under(f"LEAD#{lead_id}", "SEND#")
    ses_message_id = marker["ses_message_id"]
    # SES replaces the Message-ID a sender sets with its own; the client wrote to the reply domain's catch-all
    del email["Message-ID"], email["Reply-To"]
    email["Message-ID"] = f"<{ses_message_id}@ap-northeast-1.amazonses.com>"
    email["Reply-To"] = f"info@{RESOURCES.reply_domain}"

    assert receive(reply_to(email, "詳細を教えてください。"), RESOURCES) == {"recorded": 1}
    (reply,) = [event for event in events_under(f"LEAD#{lead_id}") if event["type"] == "email_reply"]
    assert reply["message_id"] == marker["SK"].removeprefix("SEND#") and reply["template"] == "know_how"
    # The same ids from another sender's address name nobody; nor from the lead's address without DMARC's pass, as
    # anyone can write a From line
    other = reply_to(email, "詳細を教えてください。", sender="someone-else@example.co.jp")
    assert receive(other, RESOURCES) == {"unknown_address": 1}
    raw = reply_to(email, "詳細を教えてください。", sender="first@example.co.jp")
    s3 = boto3.client("s3", region_name=RESOURCES.region)
    s3.put_object(Bucket=RESOURCES.reply_bucket, Key=f"{REPLY_OBJECT_PREFIX}unauthenticated", Body=raw)
    event = receipt_event(raw, "unauthenticated", utc_now(), RESOURCES)
    event["Records"][0]["ses"]["receipt"]["dmarcVerdict"] = {"status": "FAIL"}
    assert invoke("replies", event) == {"unknown_address": 1}


def test_a_delivery_report_that_lands_on_the_reply_domain_is_only_counted():
    lead_id, email = first_email()
    before = items_under(f"LEAD#{lead_id}")
    raw = reply_to(email, "This is the mail system at host mx.example.co.jp. Your message could not be delivered.",
                   subject="Undelivered Mail Returned to Sender", sender="MAILER-DAEMON@mx.example.co.jp")

    assert receive(raw, RESOURCES) == {"delivery_report": 1}
    assert items_under(f"LEAD#{lead_id}") == before


def test_a_message_too_large_for_a_reply_is_refused_unread():
    _, email = first_email()
    raw = reply_to(email, "添付をご確認ください。\n" + "x" * (10 * 1024 * 1024))
    assert receive(raw, RESOURCES) == {"too_large": 1}


def test_the_documented_receipt_event_without_its_stored_message_is_counted_as_gone():
    event = json.loads((EVENTS / "replies-receipt.json").read_text(encoding="utf-8"))
    assert invoke("replies", event) == {"gone": 1}


@pytest.mark.parametrize("broken", [{"Records": "x"}, {"Records": [{"ses": {"mail": {}}}]},
                                    {"Records": [{"ses": {"mail": {"messageId": "m", "timestamp": "yesterday"},
                                                          "receipt": {"recipients": []}}}]}])
def test_an_event_that_is_not_ses_receiving_fails_the_invocation_with_a_clear_error(broken: dict):
    documented = json.loads((EVENTS / "replies-receipt.json").read_text(encoding="utf-8"))["Records"][0]
    event = {"Records": [documented, *broken["Records"]]} if isinstance(broken["Records"], list) else broken
    with pytest.raises(NotAReceipt):
        invoke("replies", event)


def test_a_reply_from_a_lead_sales_already_work_tells_its_owner_at_once(receiver: Receiver):
    lead_id, email = first_email()
    pipeline = Pipeline()
    demo_request("first@example.co.jp", "Acme")  # the same person asks for a demo: handed off, its owner told
    pipeline.drain()
    notifier().drain()
    told = len(alert_emails())

    assert receive(reply_to(email, "見積もりもお願いできますか。"), RESOURCES) == {"recorded": 1}
    notifier().drain()

    (alert,) = alert_emails()[told:]
    assert "[Nurture] 担当のリードからメールに返信がありました" in str(alert["Subject"])
    assert "返信: 見積もりもお願いできますか。" in alert.get_content() and f"/v1/leads/{lead_id}" in alert.get_content()
    replied = [post for post in receiver.alerts() if post.event == "lead.replied"]
    assert replied and all(post.signature_valid and post.json()["handoff"]["lead_id"] == lead_id for post in replied)
    assert profile(lead_id)["stage"] == "handed_off"  # a reply changes no owner's work, it adds to it


def test_a_reply_whose_alerts_failed_to_queue_alerts_its_owner_on_lambdas_retry(receiver: Receiver, monkeypatch):
    lead_id, email = first_email()
    pipeline = Pipeline()
    demo_request("first@example.co.jp", "Acme")
    pipeline.drain()
    notifier().drain()
    told = len(alert_emails())
    raw = reply_to(email, "至急ご連絡ください。")
    s3 = boto3.client("s3", region_name=RESOURCES.region)
    s3.put_object(Bucket=RESOURCES.reply_bucket, Key=f"{REPLY_OBJECT_PREFIX}retried", Body=raw)
    event = receipt_event(raw, "retried", utc_now(), RESOURCES)

    def unavailable(self: object, jobs: object) -> None:
        raise StoreUnavailable("sqs down")

    with monkeypatch.context() as patched:
        patched.setattr(AlertQueue, "send_jobs", unavailable)
        with pytest.raises(StoreUnavailable):
            invoke("replies", event)  # the reply is recorded, its alerts are not queued: Lambda retries
    assert invoke("replies", event) == {"duplicate": 1}
    notifier().drain()
    (alert,) = alert_emails()[told:]
    assert "返信: 至急ご連絡ください。" in alert.get_content() and f"/v1/leads/{lead_id}" in alert.get_content()
    assert invoke("replies", event) == {"duplicate": 1}
    notifier().drain()
    assert len(alert_emails()) == told + 1  # the same alert ids: sent once
