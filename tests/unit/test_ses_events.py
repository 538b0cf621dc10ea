"""SES events in every shape they arrive in: event publishing and classic notifications, inside an EventBridge
event (AWS since issue 20), an SNS notification (before) or bare."""

import json
import logging
from typing import Any

import pytest

from nurture.domain.ses_events import DETAIL_TYPES, SesEvent, UnreadableSesEvent
from nurture.queues.batch import QueueMessage
from nurture.queues.ses_events import events_in
from nurture.topology import SES_CONFIGURATION_SET_TAG, SES_EVENT_SOURCE
from tests.conftest import REPO, SHARED_EVENTS

SAMPLES = sorted(SHARED_EVENTS.glob("awsdocs__ses-sns-*.json"))
# The same records as EventBridge delivers them: our own samples (events/README.md says how they were built).
EVENTBRIDGE_SAMPLES = sorted((REPO / "events").glob("ses-eventbridge-*.json"))


def sns_envelope(message: str) -> str:
    """What SNS delivers to an SQS subscription without raw message delivery."""
    return json.dumps({"Type": "Notification", "MessageId": "0d5e8c1a-0000-4000-8000-000000000001",
                       "TopicArn": "arn:aws:sns:ap-northeast-1:123456789012:nurture-ses-events",
                       "Message": message, "Timestamp": "2026-12-01T01:00:00.000Z", "SignatureVersion": "1"})


def eventbridge_envelope(record: dict[str, Any], configuration_set: str = "nurture") -> str:
    """What an EventBridge rule delivers to an SQS target: the whole event, the SES record as its detail."""
    return json.dumps({"version": "0", "id": "6f3c2b1a-0000-4000-8000-000000000002",
                       "detail-type": DETAIL_TYPES[record["eventType"]], "source": SES_EVENT_SOURCE,
                       "account": "123456789012", "time": "2026-12-01T01:00:00Z", "region": "ap-northeast-1",
                       "resources": [f"arn:aws:ses:ap-northeast-1:123456789012:configuration-set/{configuration_set}"],
                       "detail": record})


def read(body: str) -> list[SesEvent]:
    return events_in(QueueMessage.of({"messageId": "sqs-1", "body": body}))


def test_every_published_sample_is_present():
    assert {p.name.removeprefix("awsdocs__ses-sns-").removesuffix(".json") for p in SAMPLES} >= {
        "bounce", "click", "complaint", "delivery", "open", "send"}
    assert {p.name.removeprefix("ses-eventbridge-").removesuffix(".json") for p in EVENTBRIDGE_SAMPLES} >= {
        "bounce", "click", "complaint", "delivery", "open"}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_each_sample_reads_the_same_inside_eventbridge_sns_and_raw(path):
    text = path.read_text(encoding="utf-8")
    record = json.loads(text)
    through_eventbridge, wrapped, raw = read(eventbridge_envelope(record)), read(sns_envelope(text)), read(text)
    assert through_eventbridge == wrapped == raw and raw
    assert {event.ses_message_id for event in raw} == {record["mail"]["messageId"]}
    assert all("@" in event.recipient and event.occurred_at.tzinfo for event in raw)


@pytest.mark.parametrize("path", EVENTBRIDGE_SAMPLES, ids=[p.name for p in EVENTBRIDGE_SAMPLES])
def test_each_eventbridge_sample_is_awss_record_in_sess_envelope_and_reads_as_it(path):
    event = json.loads(path.read_text(encoding="utf-8"))
    kind = path.name.removeprefix("ses-eventbridge-").removesuffix(".json")
    published = json.loads((SHARED_EVENTS / f"awsdocs__ses-sns-{kind}.json").read_text(encoding="utf-8"))
    assert event["detail"] == published  # the record as AWS documents it, untouched
    assert (event["source"], event["detail-type"]) == (SES_EVENT_SOURCE, DETAIL_TYPES[published["eventType"]])
    (configuration_set,) = published["mail"]["tags"][SES_CONFIGURATION_SET_TAG]
    assert event["resources"] == [f"arn:aws:ses:{event['region']}:{event['account']}:configuration-set/"
                                  f"{configuration_set}"]
    assert read(json.dumps(event)) == read(json.dumps(published))


def test_a_permanent_bounce_is_a_permanent_failure_per_recipient():
    (event,) = read((REPO / "events" / "ses-eventbridge-bounce.json").read_text(encoding="utf-8"))
    assert (event.kind, event.bounce_type, event.recipient) == ("bounce", "Permanent", "recipient@example.com")
    assert event.permanent_failure


def test_a_click_keeps_its_link_agent_and_the_senders_tags():
    (event,) = read((REPO / "events" / "ses-eventbridge-click.json").read_text(encoding="utf-8"))
    assert event.kind == "click" and event.link and event.user_agent and not event.permanent_failure
    assert event.tags[SES_CONFIGURATION_SET_TAG] == "ConfigSet"


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
    events = read(sns_envelope(json.dumps(CLASSIC_BOUNCE)))
    assert [(e.kind, e.recipient, e.bounce_type) for e in events] == [
        ("bounce", "a@example.co.jp", "Transient"), ("bounce", "b@example.co.jp", "Transient")]
    assert len({e.key for e in events}) == 2 and not any(e.permanent_failure for e in events)
    assert read(json.dumps(CLASSIC_BOUNCE))[0].key == events[0].key  # the same event, the same key


def _eventbridge(source: str, detail: Any) -> str:
    return json.dumps({"version": "0", "id": "x", "detail-type": "Email Delivered", "source": source,
                       "account": "123456789012", "time": "2026-12-01T01:00:00Z", "region": "ap-northeast-1",
                       "resources": [], "detail": detail})


@pytest.mark.parametrize("body", [
    "not json", "[]", json.dumps({"eventType": "Nonsense", "mail": {"messageId": "m"}}),
    json.dumps({"eventType": "Delivery"}), sns_envelope("{not json"), sns_envelope("[]"),
    json.dumps({"eventType": "Bounce", "mail": {"messageId": "m", "timestamp": "2026-12-01T00:00:00Z"},
                "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}}),
    json.dumps({"Type": "Notification", "Message": json.dumps({"message": "hello world"})}),
    # EventBridge events that are not an SES email event: another service's, SES's without a record, a list.
    (SHARED_EVENTS / "powertools__eventBridgeEvent.json").read_text(encoding="utf-8"),
    (SHARED_EVENTS / "awsdocs__lambda-dg-eventbridge-scheduled-event.json").read_text(encoding="utf-8"),
    _eventbridge("aws.ses", {"sendingStatus": "DISABLED"}), _eventbridge("aws.ses", ["Delivery"]),
    _eventbridge("my.app", json.loads((SHARED_EVENTS / "awsdocs__ses-sns-delivery.json").read_text("utf-8"))),
])
def test_anything_else_is_unreadable(body):
    with pytest.raises(UnreadableSesEvent):
        read(body)


def test_an_unreadable_body_is_logged_by_what_is_wrong_never_by_what_it_holds(caplog):
    record = json.loads((SHARED_EVENTS / "awsdocs__ses-sns-bounce.json").read_text(encoding="utf-8"))
    record["bounce"]["bouncedRecipients"][0]["emailAddress"] = "not an address of taro@example.co.jp"
    with caplog.at_level(logging.ERROR), pytest.raises(UnreadableSesEvent):
        read(eventbridge_envelope(record))
    (line,) = [r for r in caplog.records if r.getMessage() == "unreadable SES event"]
    assert line.reason == "an SES bounce event names an unreadable recipient"  # type: ignore[attr-defined]
    assert line.sqs_message_id == "sqs-1"  # type: ignore[attr-defined]
    assert "taro" not in caplog.text
