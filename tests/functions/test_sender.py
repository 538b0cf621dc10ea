"""The sender: a due step email goes out once, to a lead that may still get it, and is recorded."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from typing import Any

import boto3
import pytest
import time_machine

from functions.sender.handler import composer
from nurture import keys
from nurture.adapters.sender_store import DynamoSenderStore
from nurture.adapters.token_keys import token_signer
from nurture.config import NurtureConfig, load_config
from nurture.config.records import validated
from nurture.config.templates import EmailTemplate
from nurture.domain.clock import parse_iso, utc_now
from nurture.domain.console.audit import Change
from nurture.domain.errors import SendDeferred, SendRejected
from nurture.domain.sending import message_id_for
from nurture.domain.sequencing import SequenceState
from nurture.domain.tokens import UNSUBSCRIBE
from nurture.local.functions import api_request, invoke
from nurture.local.queues import sqs_event
from nurture.queues.sender import handle_batch
from tests.conftest import CONFIG_DIR, SHARED_EVENTS
from tests.functions.helpers import items_under, profile
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import (
    RESOURCES,
    dispatch,
    dispatch_and_send,
    due_at,
    enrolled,
    outbox,
    send_queue,
)
from tests.functions.test_ses_events import sqs_batch

pytestmark = pytest.mark.usefixtures("aws")
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0"


def received_messages(visibility: int | None = None, wait: int = 0) -> list[dict[str, Any]]:
    import boto3

    sqs = boto3.client("sqs")
    options: dict[str, Any] = {"VisibilityTimeout": visibility} if visibility is not None else {}
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=RESOURCES.queue_url(RESOURCES.send_queue), MaxNumberOfMessages=10, AttributeNames=["All"],
        WaitTimeSeconds=wait, **options).get("Messages", [])
    return messages


def stats(sequence: str, step: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in items_under(keys.stats_pk(sequence, step)):
        for name in ("sent", "failed", "skipped"):
            if name in item:
                totals[name] = totals.get(name, 0) + int(item[name])
    return totals


def activity_types(lead_id: str) -> list[str]:
    return [e["type"] for e in items_under(keys.lead_pk(lead_id), keys.EVENT_PREFIX)]


def test_a_due_step_email_goes_out_once_and_the_lead_advances():
    lead_id = enrolled()
    moment = due_at(lead_id)
    dispatch_and_send(moment)
    (email,) = outbox()
    assert email["To"] == "first@example.co.jp"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["List-Unsubscribe"].startswith("<http://127.0.0.1:3000/v1/unsubscribe/")
    assert "山田" in email.get_body(("html",)).get_content()
    lead = profile(lead_id)
    assert lead["sequence"]["step"] == 1 and lead["sequence"]["sent_templates"] == ["know_how"]
    assert lead["emails_sent"] == 1 and lead["due_sk"].startswith(lead["sequence"]["next_send_at"])
    assert parse_iso(lead["sequence"]["next_send_at"]) > moment
    assert "email_sent" in activity_types(lead_id)
    assert stats("warm_nurture", "know_how") == {"sent": 1}
    # The dispatcher's lease has run out and the same step is claimed again: nothing more goes out.
    dispatch_and_send(moment)
    assert len(outbox()) == 1 and stats("warm_nurture", "know_how") == {"sent": 1}


def test_a_lead_that_unsubscribes_between_dispatch_and_send_gets_nothing():
    lead_id = enrolled()
    dispatch(due_at(lead_id))
    token = token_signer(RESOURCES.signing_key_parameter).sign(UNSUBSCRIBE, {"l": lead_id, "m": "m"})
    api_request("POST", f"/v1/unsubscribe/{token}", headers={"content-type": "application/x-www-form-urlencoded"},
                body=b"List-Unsubscribe=One-Click")
    with time_machine.travel(due_at(lead_id), tick=False):
        send_queue().drain()
    assert outbox() == []
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] == "unsubscribed" and "due_sk" not in lead


def test_a_lead_that_left_the_step_emails_type_gets_no_more_of_them_and_the_sequence_stops():
    lead_id = enrolled()
    dispatch(due_at(lead_id))
    choice = {"choice": "out", "at": "2026-11-20T01:00:00.000000Z", "via": "preference_page"}
    boto3.client("dynamodb").update_item(
        TableName=RESOURCES.table_name, Key={"PK": {"S": keys.lead_pk(lead_id)}, "SK": {"S": keys.PROFILE}},
        UpdateExpression="SET subscriptions = :s",
        ExpressionAttributeValues={":s": {"M": {"step_emails": {"M": {k: {"S": v} for k, v in choice.items()}}}}})
    with time_machine.travel(due_at(lead_id), tick=False):
        send_queue().drain()
    assert outbox() == []
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] == "opted_out_of_type" and "due_sk" not in lead
    assert lead["status"] == "active"  # still subscribed to everything else


def test_a_second_delivery_while_the_first_is_sending_waits_instead_of_sending():
    lead_id = enrolled()
    moment = due_at(lead_id)
    dispatch(moment)
    (message,) = received_messages()
    state = profile(lead_id)["sequence"]
    sequence_state = SequenceState.from_item(state)
    assert sequence_state is not None
    # Another sender has written its marker and is talking to SES right now.
    DynamoSenderStore(RESOURCES.table_name).begin_send(lead_id, message_id_for(lead_id, sequence_state),
                                                       state["next_send_at"], 0, "another-sender")
    with time_machine.travel(moment, tick=False):
        response = invoke("sender", sqs_event([message], "arn:aws:sqs:ap-northeast-1:123456789012:q", RESOURCES.region))
    assert response["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    assert outbox() == [] and profile(lead_id)["sequence"]["step"] == 0


class FailingMailer:
    def __init__(self, error: Exception):
        self.error = error
        self.calls = 0

    def send(self, raw: bytes, recipient: str, tags: dict[str, str]) -> str:
        self.calls += 1
        raise self.error


def run_sender(mailer: Any, config: NurtureConfig | None = None, keep: bool = False,
               visible_after: int = 0) -> dict[str, Any]:
    """The sender's queue consumer with another mailer, at the moment the step is due. `keep`: the
    messages stay visible for the next call (as a failed record returns to the queue)."""
    from functions.sender.handler import collaborators

    store, _, campaigns = collaborators()
    messages = received_messages(visibility=0 if keep else None, wait=visible_after)
    moment = parse_iso(json.loads(messages[0]["Body"])["due"])
    event = sqs_event(messages, "arn:aws:sqs:ap-northeast-1:123456789012:q", RESOURCES.region)
    config = config or load_config(CONFIG_DIR)
    return handle_batch(event, store, mailer, composer, config, lambda: moment, campaigns.state,
                        lambda version: config)


def test_throttling_returns_the_message_to_the_queue_and_leaves_the_lead_due():
    lead_id = enrolled()
    dispatch(due_at(lead_id))
    response = run_sender(FailingMailer(SendDeferred("SES: TooManyRequestsException")), keep=True)
    assert len(response["batchItemFailures"]) == 1
    assert profile(lead_id)["sequence"]["step"] == 0
    (marker,) = items_under(keys.lead_pk(lead_id), "SEND#")
    assert marker["status"] == "abandoned"  # nothing went out: the retry may send
    from functions.sender.handler import collaborators

    assert run_sender(collaborators()[1])["batchItemFailures"] == []
    assert len(outbox()) == 1 and profile(lead_id)["sequence"]["step"] == 1


def a_send_ses_may_have_accepted(monkeypatch: pytest.MonkeyPatch) -> str:
    """A send that SES answered with a 5xx (it may have sent it): the marker stays "sending", and its retry
    comes back later than any sender could still be at work."""
    import nurture.domain.sending as sending

    lead_id = enrolled()
    dispatch(due_at(lead_id))
    response = run_sender(FailingMailer(SendDeferred("SES: InternalFailure", maybe_sent=True)), keep=True)
    assert len(response["batchItemFailures"]) == 1
    (marker,) = items_under(keys.lead_pk(lead_id), "SEND#")
    assert marker["status"] == "sending"  # kept: only SES's own report may clear it
    monkeypatch.setattr(sending, "IN_FLIGHT", timedelta(0))
    monkeypatch.setattr(sending, "SES_REPORT_WAIT", timedelta(0))
    return lead_id


def test_a_send_ses_reports_it_accepted_is_recorded_and_never_sent_again(monkeypatch):
    lead_id = a_send_ses_may_have_accepted(monkeypatch)
    # SES's Send event for that very message arrives (ses_events records it on the lead)
    (marker,) = items_under(keys.lead_pk(lead_id), "SEND#")
    send = json.loads((SHARED_EVENTS / "awsdocs__ses-sns-send.json").read_text(encoding="utf-8"))
    send["mail"]["timestamp"], send["mail"]["destination"] = marker["at"], ["first@example.co.jp"]
    send["mail"]["tags"] = {"lead": [lead_id], "sequence": ["warm_nurture"], "step": ["know_how"],
                            "message": [marker["SK"].removeprefix("SEND#")]}
    assert invoke("ses_events", sqs_batch(json.dumps(send)))["batchItemFailures"] == []
    # Then the retry counts the email as sent, and does not send it again
    mailer = FailingMailer(AssertionError("must not be called"))
    assert run_sender(mailer, visible_after=1)["batchItemFailures"] == []
    assert mailer.calls == 0 and profile(lead_id)["sequence"]["step"] == 1
    assert stats("warm_nurture", "know_how") == {"sent": 1}


def test_a_send_ses_never_reported_goes_out_on_the_retry_once(monkeypatch):
    from functions.sender.handler import collaborators

    lead_id = a_send_ses_may_have_accepted(monkeypatch)  # and no Send event ever arrives: SES never had it
    assert run_sender(collaborators()[1], visible_after=1)["batchItemFailures"] == []
    (email,) = outbox()
    assert email["To"] == "first@example.co.jp" and profile(lead_id)["sequence"]["step"] == 1
    assert stats("warm_nurture", "know_how") == {"sent": 1}
    (marker,) = items_under(keys.lead_pk(lead_id), "SEND#")
    assert marker["status"] == "sent"


def test_a_permanent_refusal_is_recorded_on_the_lead_and_never_retried():
    lead_id = enrolled()
    dispatch(due_at(lead_id))
    mailer = FailingMailer(SendRejected("MessageRejected"))
    response = run_sender(mailer)
    assert response["batchItemFailures"] == [] and mailer.calls == 1
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] == "send_failed" and lead["send_error"]["error"] == "ses: MessageRejected"
    assert "due_sk" not in lead and "email_failed" in activity_types(lead_id)
    assert stats("warm_nurture", "know_how") == {"failed": 1}


def test_a_template_that_fails_to_render_sends_nothing_and_records_the_error(monkeypatch):
    import functions.sender.handler as sender

    lead_id = enrolled()
    dispatch(due_at(lead_id))
    config = load_config(CONFIG_DIR)
    broken = validated(EmailTemplate, {"ja": {"subject": "s", "html": "{{ 1 / 0 }}", "text": "t"}})
    config = dataclasses.replace(config, templates={**config.templates, "know_how": broken})
    monkeypatch.setattr(sender, "marketer_config", lambda: config)
    response = run_sender(FailingMailer(AssertionError("must not be called")), config)
    assert response["batchItemFailures"] == [] and outbox() == []
    lead = profile(lead_id)
    assert lead["send_error"]["error"].startswith("render: ZeroDivisionError")
    assert lead["sequence"]["step"] == 1 and lead["sequence"]["sent_templates"] == []  # skipped, not sent
    assert stats("warm_nurture", "know_how") == {"failed": 1}


def test_opening_the_previous_email_counts_for_the_next_steps_condition():
    lead_id = enrolled()
    sent = due_at(lead_id)
    dispatch_and_send(sent)
    (email,) = outbox()
    pipeline = Pipeline()
    pixel = re.search(r'src="http://127\.0\.0\.1:3000(/v1/t/o/[^"]+)\.gif"', email.get_body(("html",)).get_content())
    assert pixel is not None
    with time_machine.travel(sent + timedelta(hours=1), tick=False):  # a person opens it later
        api_request("GET", pixel.group(1) + ".gif", headers={"user-agent": BROWSER})
    pipeline.drain()
    state = profile(lead_id)["sequence"]
    assert state["opened_previous"] is True and state["clicked_previous"] is False


def test_clicking_a_link_in_the_email_records_the_click():
    lead_id = enrolled()
    sent = due_at(lead_id)
    dispatch_and_send(sent)
    (email,) = outbox()
    pipeline = Pipeline()
    link = re.search(r'href="http://127\.0\.0\.1:3000(/v1/t/c/[^"]+)"', email.get_body(("html",)).get_content())
    assert link is not None
    with time_machine.travel(sent + timedelta(hours=1), tick=False):
        response = api_request("GET", link.group(1), headers={"user-agent": BROWSER})
    assert response is not None and response["statusCode"] == 302
    pipeline.drain()
    assert "email_click" in activity_types(lead_id)
    assert profile(lead_id)["sequence"]["clicked_previous"] is True


def test_the_sample_event_is_a_step_message_the_sender_takes():
    event = json.loads((CONFIG_DIR.parent / "events" / "sender-step.json").read_text(encoding="utf-8"))
    assert invoke("sender", event)["batchItemFailures"] == []  # its lead does not exist: nothing to send


def test_the_sample_tick_runs_the_dispatcher():
    event = json.loads((CONFIG_DIR.parent / "events" / "dispatcher-tick.json").read_text(encoding="utf-8"))
    assert invoke("dispatcher", event) == {"due": 0, "dispatched": 0, "lost_races": 0, "campaigns_started": [],
                                           "campaigns_decided": [], "held_released": 0, "unconfirmed_removed": 0,
                                           "reminders_queued": 0, "seats_offered": 0, "verdicts_reminded": 0,
                                           "verdicts_escalated": 0, "customers_reviewed": 0, "customers_moved": 0}


def test_a_scanner_burst_right_after_delivery_scores_nothing_and_a_person_a_minute_later_does():
    lead_id = enrolled()
    sent = due_at(lead_id)
    dispatch_and_send(sent)
    (email,) = outbox()
    html = email.get_body(("html",)).get_content()
    links = re.findall(r'href="http://127\.0\.0\.1:3000(/v1/t/c/[^"]+)"', html)
    assert len(links) >= 2
    pipeline = Pipeline()
    before, written = profile(lead_id)["engagement"], profile(lead_id)["scoring"]["version"]
    for n in range(5):  # a mail gateway opens every link within 300 ms of delivery
        with time_machine.travel(sent + timedelta(seconds=1, milliseconds=60 * n), tick=False):
            assert api_request("GET", links[n % len(links)], headers={"user-agent": BROWSER})["statusCode"] == 302
    pipeline.drain()
    clicks = [e for e in items_under(keys.lead_pk(lead_id), keys.EVENT_PREFIX) if e["type"] == "email_click"]
    assert len(clicks) == 5 and all(c["bot"] is True for c in clicks)
    assert {c["bot_reason"] for c in clicks} <= {"too_soon_after_send", "honeypot_link"}
    assert profile(lead_id)["engagement"] == before and profile(lead_id)["sequence"]["clicked_previous"] is False
    assert profile(lead_id)["scoring"]["version"] == written  # a machine's clicks change nothing: no profile write
    with time_machine.travel(sent + timedelta(minutes=1, seconds=5), tick=False):
        api_request("GET", links[0], headers={"user-agent": BROWSER})
    pipeline.drain()
    assert profile(lead_id)["engagement"] > before and profile(lead_id)["sequence"]["clicked_previous"] is True


def test_a_burst_across_links_an_hour_later_is_a_scanner_even_when_it_arrives_in_two_batches():
    lead_id = enrolled()
    sent = due_at(lead_id)
    dispatch_and_send(sent)
    (email,) = outbox()
    visible = re.findall(r'href="http://127\.0\.0\.1:3000(/v1/t/c/[^"]+)"(?! style="display:none")',
                         email.get_body(("html",)).get_content())
    assert len(set(visible)) >= 2
    pipeline = Pipeline()
    before = float(profile(lead_id)["engagement"])
    scanned = sent + timedelta(hours=1)  # long past "too soon after the send": only the burst tells
    with time_machine.travel(scanned, tick=False):
        api_request("GET", visible[0], headers={"user-agent": BROWSER})
    pipeline.drain()  # the first click is scored alone, before the rest of the burst arrives
    assert float(profile(lead_id)["engagement"]) > before
    for n, link in enumerate(visible[1:3], start=1):
        with time_machine.travel(scanned + timedelta(milliseconds=150 * n), tick=False):
            api_request("GET", link, headers={"user-agent": BROWSER})
    pipeline.drain()
    clicks = [e for e in items_under(keys.lead_pk(lead_id), keys.EVENT_PREFIX) if e["type"] == "email_click"]
    assert len(clicks) == len(visible[:3]) and {c.get("bot_reason") for c in clicks} == {"click_burst"}
    ledger = items_under(keys.lead_pk(lead_id), "SCORE#")
    withdrawn = [e for e in ledger if e["rule_id"] == "click_burst"]
    assert [(w["event_id"], float(w["delta"])) for w in withdrawn] == [(clicks[0]["event_id"], -5.0)]
    assert sum(float(e["delta"]) for e in ledger if e["event_type"] == "email_click") == 0
    assert float(profile(lead_id)["engagement"]) < before  # the form's points, decayed an hour; no click's


def test_an_anonymous_post_with_a_new_name_does_not_change_whom_the_next_email_greets():
    lead_id = enrolled("victim@example.co.jp", "見本 花子")
    response = api_request("POST", "/v1/forms/whitepaper", headers={"content-type": "application/json"},
                           body=json.dumps({"email": "victim@example.co.jp", "name": "至急ご確認ください",
                                            "company": "Acme", "consent": True}).encode())
    assert response is not None and response["statusCode"] == 202
    dispatch_and_send(due_at(lead_id))
    (email,) = outbox()
    assert "見本 花子" in email["Subject"] and "至急" not in email.get_body(("plain",)).get_content()


def test_emails_already_queued_when_the_guard_pauses_are_not_sent_until_it_resumes():
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.domain.deliverability import Verdict
    from nurture.domain.dispatch import LEASE

    lead_id = enrolled()
    moment = due_at(lead_id)
    dispatch(moment)  # the step email is on the send queue
    guard = DynamoDeliverabilityStore(RESOURCES.table_name)
    assert guard.pause(Verdict(1000, 0, 6, 0.0, 0.006, True, False, "complaint rate 0.600%"), "2026-12-01T00:00:00Z")
    with time_machine.travel(moment, tick=False):
        send_queue().drain()
    assert outbox() == [] and profile(lead_id)["sequence"]["step"] == 0  # nothing sent, nothing lost
    assert guard.resume(Change("operator@example.jp", "sending.resume", "", utc_now()))
    dispatch_and_send(moment + LEASE + timedelta(minutes=1))  # the lease ran out: due again
    if not outbox():  # the lease ended outside the send window: the sender timed it to the window's next opening
        dispatch_and_send(due_at(lead_id))
    (email,) = outbox()
    assert email["To"] == "first@example.co.jp" and profile(lead_id)["sequence"]["step"] == 1
