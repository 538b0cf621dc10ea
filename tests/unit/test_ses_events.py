"""SES events in every shape they arrive in: event publishing, classic notifications, SNS or raw."""

import json

import pytest

from nurture.domain.ses_events import UnreadableSesEvent, parse_body
from tests.conftest import SHARED_EVENTS

SAMPLES = sorted(SHARED_EVENTS.glob("awsdocs__ses-sns-*.json"))


def sns_envelope(message: str) -> str:
    """What SNS delivers to an SQS subscription without raw message delivery."""
    return json.dumps({"Type": "Notification", "MessageId": "0d5e8c1a-0000-4000-8000-000000000001",
                       "TopicArn": "arn:aws:sns:ap-northeast-1:123456789012:nurture-ses-events",
                       "Message": message, "Timestamp": "2026-12-01T01:00:00.000Z", "SignatureVersion": "1"})


def test_every_published_sample_is_present():
    assert {p.name.removeprefix("awsdocs__ses-sns-").removesuffix(".json") for p in SAMPLES} >= {
        "bounce", "click", "complaint", "delivery", "open", "send"}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_each_sample_reads_the_same_inside_sns_and_raw(path):
    text = path.read_text(encoding="utf-8")
    wrapped, raw = parse_body(sns_envelope(text)), parse_body(text)
    assert wrapped == raw and wrapped
    record = json.loads(text)
    assert {event.ses_message_id for event in wrapped} == {record["mail"]["messageId"]}
    assert all("@" in event.recipient and event.occurred_at.tzinfo for event in wrapped)


def test_a_permanent_bounce_is_a_permanent_failure_per_recipient():
    (event,) = parse_body((SHARED_EVENTS / "awsdocs__ses-sns-bounce.json").read_text(encoding="utf-8"))
    assert (event.kind, event.bounce_type, event.recipient) == ("bounce", "Permanent", "recipient@example.com")
    assert event.permanent_failure


def test_a_click_keeps_its_link_agent_and_the_senders_tags():
    (event,) = parse_body((SHARED_EVENTS / "awsdocs__ses-sns-click.json").read_text(encoding="utf-8"))
    assert event.kind == "click" and event.link and event.user_agent and not event.permanent_failure


CLASSIC_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull", "timestamp": "2026-12-01T01:02:03.000Z",
               "feedbackId": "0100-feedback", "bouncedRecipients": [
                   {"emailAddress": "a@example.co.jp", "status": "4.2.2"},
                   {"emailAddress": "b@example.co.jp", "status": "4.2.2"}]},
    "mail": {"timestamp": "2026-12-01T01:00:00.000Z", "messageId": "0100-classic", "source": "news@example.com",
             "destination": ["a@example.co.jp", "b@example.co.jp"]},
}


def test_a_classic_notification_of_two_recipients_is_two_events_with_their_own_keys():
    events = parse_body(sns_envelope(json.dumps(CLASSIC_BOUNCE)))
    assert [(e.kind, e.recipient, e.bounce_type) for e in events] == [
        ("bounce", "a@example.co.jp", "Transient"), ("bounce", "b@example.co.jp", "Transient")]
    assert len({e.key for e in events}) == 2 and not any(e.permanent_failure for e in events)
    assert parse_body(json.dumps(CLASSIC_BOUNCE))[0].key == events[0].key  # the same event, the same key


@pytest.mark.parametrize("body", [
    "not json", "[]", json.dumps({"eventType": "Nonsense", "mail": {"messageId": "m"}}),
    json.dumps({"eventType": "Delivery"}), sns_envelope("{not json"),
    json.dumps({"eventType": "Bounce", "mail": {"messageId": "m", "timestamp": "2026-12-01T00:00:00Z"},
                "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}}),
    json.dumps({"Type": "Notification", "Message": json.dumps({"message": "hello world"})}),
])
def test_anything_else_is_unreadable(body):
    with pytest.raises(UnreadableSesEvent):
        parse_body(body)
