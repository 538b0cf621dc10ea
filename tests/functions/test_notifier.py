"""Alerts to a hot lead's owner, with the real handoff and notifier functions under moto and a real HTTP receiver
for the webhooks (the local runtime's, which checks each signature with the secret in SSM)."""

import json
from typing import Any

import boto3
import pytest

from nurture.local.functions import invoke
from nurture.local.queues import QueuePoller
from tests.functions.alerting import RESOURCES, Receiver, alert_emails, notifier
from tests.functions.pipeline import Pipeline
from tests.functions.test_routing import demo_request

pytestmark = pytest.mark.usefixtures("aws")
def queued(name: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = RESOURCES.queue_url(name)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                         "ApproximateNumberOfMessagesNotVisible"])
    return [int(value) for value in attributes["Attributes"].values()]  # type: ignore[return-value]


def test_a_queued_lead_alerts_its_team_lead_by_email_and_a_signed_webhook(receiver: Receiver):
    # Given a lead no rule routes: it waits in the unassigned queue, which the east team's lead (suzuki) watches
    pipeline = Pipeline()
    lead_id = demo_request("overseas@example.com", "Overseas Ltd", country="US")
    pipeline.drain()

    notifier().drain()

    (email,) = alert_emails()
    assert email["To"] == "suzuki@example.co.jp" and email["From"] == RESOURCES.sender_address
    assert email["Date"] is not None and email["Message-ID"] is not None
    assert email["Subject"] == "[Nurture] キュー「未割当 (unassigned)」にホットリードが入りました (A)"
    text = email.get_content()
    assert "担当 太郎 / 部長 / Overseas Ltd" in text and f"/v1/leads/{lead_id}" in text
    (post,) = receiver.alerts()
    assert (post.webhook, post.event, post.signature_valid) == ("crm_hook", "handoff.created", True)
    assert post.json()["handoff"]["lead_id"] == lead_id and post.json()["recipient"] == "suzuki"


def test_each_owner_channel_gets_its_own_format(receiver: Receiver):
    pipeline = Pipeline()
    demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")  # west: ito, email and Slack
    pipeline.drain()
    demo_request("b@big-one.example.co.jp", "大手第一", employees="5000")  # enterprise: tanaka, email and Teams
    pipeline.drain()

    notifier().drain()

    assert sorted(str(email["To"]) for email in alert_emails()) == ["ito@example.co.jp", "tanaka@example.co.jp"]
    posts = {post.webhook: post for post in receiver.alerts()}
    assert set(posts) == {"west_slack", "enterprise_teams"} and all(p.signature_valid for p in posts.values())
    assert posts["west_slack"].json()["blocks"][0]["text"]["text"] == "ホットリードの担当になりました"
    card = posts["enterprise_teams"].json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_a_redelivered_alert_is_sent_once(receiver: Receiver):
    pipeline = Pipeline()
    demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()
    sqs = boto3.client("sqs")
    url = RESOURCES.queue_url(RESOURCES.alert_queue)
    jobs = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        jobs += batch
    assert len([job for job in jobs if json.loads(job["Body"])["kind"] != "crm"]) == 2  # email and Slack

    # SQS delivers each message twice (at least once), and the stream publisher queued them twice (a retry)
    for _ in range(2):
        for job in jobs:
            sqs.send_message(QueueUrl=url, MessageBody=job["Body"])
    notifier().drain()

    assert len(alert_emails()) == 1 and len(receiver.alerts()) == 1


def test_a_failing_webhook_is_retried_then_dead_lettered_without_holding_up_other_alerts(receiver: Receiver):
    receiver.failing.add("enterprise_teams")
    pipeline = Pipeline()
    demo_request("b@big-one.example.co.jp", "大手第一", employees="5000")  # tanaka: email and Teams
    pipeline.drain()
    demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")  # ito: email and Slack
    pipeline.drain()

    poller = notifier(retry_at_once=True)
    for _ in range(20):  # eight jobs (each lead's two alerts and two CRM pushes), and the failing one's retries
        poller.poll_once()

    # The other alerts went out at once; the failing one was tried as often as the queue allows, then kept
    assert sorted(str(email["To"]) for email in alert_emails()) == ["ito@example.co.jp", "tanaka@example.co.jp"]
    assert [post.webhook for post in receiver.alerts()] == ["west_slack"]
    dead = boto3.client("sqs").receive_message(QueueUrl=RESOURCES.queue_url(RESOURCES.alert_dead_letters),
                                               MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["channel"] for m in dead] == ["enterprise_teams"]
    assert queued(RESOURCES.alert_queue) == [0, 0]


def test_a_webhook_without_its_secret_is_not_posted_anywhere_and_waits_for_it(receiver: Receiver):
    boto3.client("ssm").delete_parameter(Name=f"{RESOURCES.webhook_parameters}/west_slack")
    pipeline = Pipeline()
    demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()

    answers = []
    poller = QueuePoller(RESOURCES.queue_url(RESOURCES.alert_queue), RESOURCES.region,
                         lambda event: answers.append(invoke("notifier", event)) or answers[-1], batch_size=1)
    poller.poll_once()
    poller.poll_once()

    assert len(alert_emails()) == 1 and receiver.alerts() == []
    assert sum(len(answer["batchItemFailures"]) for answer in answers) == 1  # back to the queue, later


def test_a_webhook_that_redirects_is_not_followed_and_the_alert_is_tried_again(receiver: Receiver):
    receiver.redirecting.add("west_slack")
    pipeline = Pipeline()
    demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()

    answers: list[dict[str, Any]] = []
    poller = QueuePoller(RESOURCES.queue_url(RESOURCES.alert_queue), RESOURCES.region,
                         lambda event: answers.append(invoke("notifier", event)) or answers[-1], batch_size=1)
    poller.poll_once()
    poller.poll_once()

    assert receiver.alerts() == [] and receiver.redirected == 1  # the POST, and no GET after it
    assert sum(len(answer["batchItemFailures"]) for answer in answers) == 1


def test_a_released_claim_can_be_taken_again_once_and_does_not_count_as_delivered():
    from nurture.adapters.alerts import DynamoAlertStore

    store, at = DynamoAlertStore(RESOURCES.table_name), "2026-12-03T01:00:00.000000Z"
    assert store.claim_alert("lead-1", "h.ito.email", at) and not store.claim_alert("lead-1", "h.ito.email", at)
    store.release_alert("lead-1", "h.ito.email")
    assert not store.alert_delivered("lead-1", "h.ito.email")
    assert store.claim_alert("lead-1", "h.ito.email", at) and not store.claim_alert("lead-1", "h.ito.email", at)
    assert store.alert_delivered("lead-1", "h.ito.email")
