"""Alerts to a hot lead's owner, with the real handoff and notifier functions under moto and a real HTTP receiver
for the webhooks (the local runtime's, which checks each signature with the secret in SSM)."""

import functools
import json
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from typing import Any

import boto3
import pytest

from nurture.local import emulator
from nurture.local.functions import invoke
from nurture.local.gateway import Gateway, Page
from nurture.local.queues import QueuePoller
from nurture.local.resources import LocalResources, point_webhooks_at
from nurture.local.webhooks import PATH, WebhookReceiver
from tests.functions.pipeline import Pipeline
from tests.functions.test_routing import demo_request

pytestmark = pytest.mark.usefixtures("aws")
RESOURCES = LocalResources()


class Receiver:
    """The local webhook receiver on a port of its own; `failing` webhooks answer 500 instead, `redirecting` ones
    a 302 to the receiver's listing (which a GET would reach)."""

    def __init__(self) -> None:
        self.webhooks = WebhookReceiver(RESOURCES.webhook_parameters, RESOURCES.region)
        self.failing: set[str] = set()
        self.redirecting: set[str] = set()
        self.redirected = 0
        self.gateway = Gateway(("127.0.0.1", 0), self._page, self._receive)
        self.url = f"http://127.0.0.1:{self.gateway.server_address[1]}{PATH}"
        threading.Thread(target=self.gateway.serve_forever, daemon=True).start()

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> Page | None:
        if path.rpartition("/")[2] in self.failing:
            return Page(500, "text/plain", b"")
        if path.rpartition("/")[2] in self.redirecting:
            self.redirected += 1
            return Page(302, "text/plain", b"", {"Location": f"{self.url}/{path.rpartition('/')[2]}"})
        return self.webhooks.receive(path, headers, body)

    def _page(self, path: str) -> Page | None:
        if path.rpartition("/")[2] in self.redirecting:
            self.redirected += 1  # a GET that followed the redirect
            return Page(200, "text/plain", b"")
        return self.webhooks.page(path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    point_webhooks_at(RESOURCES, ["west_slack", "enterprise_teams", "crm_hook"], running.url)
    yield running
    running.gateway.shutdown()
    running.gateway.server_close()


def notifier(retry_at_once: bool = False) -> QueuePoller:
    """The alerts queue's event source: one alert an invocation, as deployed."""
    return QueuePoller(RESOURCES.queue_url(RESOURCES.alert_queue), RESOURCES.region,
                       functools.partial(invoke, "notifier"), batch_size=1, retry_at_once=retry_at_once)


def alert_emails() -> list[Any]:
    return [message_from_bytes(email.raw, policy=default) for email in emulator.sent_emails(RESOURCES.region)
            if email.configuration_set is None]


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
    assert email["Subject"] == "[Nurture] キュー「未割当 (unassigned)」にホットリードが入りました (A)"
    text = email.get_content()
    assert "担当 太郎 / 部長 / Overseas Ltd" in text and f"/v1/leads/{lead_id}" in text
    (post,) = receiver.webhooks.received()
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
    posts = {post.webhook: post for post in receiver.webhooks.received()}
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
    assert len(jobs) == 2  # email and Slack

    # SQS delivers each message twice (at least once), and the stream publisher queued them twice (a retry)
    for _ in range(2):
        for job in jobs:
            sqs.send_message(QueueUrl=url, MessageBody=job["Body"])
    notifier().drain()

    assert len(alert_emails()) == 1 and len(receiver.webhooks.received()) == 1


def test_a_failing_webhook_is_retried_then_dead_lettered_without_holding_up_other_alerts(receiver: Receiver):
    receiver.failing.add("enterprise_teams")
    pipeline = Pipeline()
    demo_request("b@big-one.example.co.jp", "大手第一", employees="5000")  # tanaka: email and Teams
    pipeline.drain()
    demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")  # ito: email and Slack
    pipeline.drain()

    poller = notifier(retry_at_once=True)
    for _ in range(12):
        poller.poll_once()

    # The other alerts went out at once; the failing one was tried as often as the queue allows, then kept
    assert sorted(str(email["To"]) for email in alert_emails()) == ["ito@example.co.jp", "tanaka@example.co.jp"]
    assert [post.webhook for post in receiver.webhooks.received()] == ["west_slack"]
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

    assert len(alert_emails()) == 1 and receiver.webhooks.received() == []
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

    assert receiver.webhooks.received() == [] and receiver.redirected == 1  # the POST, and no GET after it
    assert sum(len(answer["batchItemFailures"]) for answer in answers) == 1


def test_a_released_claim_can_be_taken_again_once_and_does_not_count_as_delivered():
    from nurture.adapters.alerts import DynamoAlertStore

    store, at = DynamoAlertStore(RESOURCES.table_name), "2026-12-03T01:00:00.000000Z"
    assert store.claim_alert("lead-1", "h.ito.email", at) and not store.claim_alert("lead-1", "h.ito.email", at)
    store.release_alert("lead-1", "h.ito.email")
    assert not store.alert_delivered("lead-1", "h.ito.email")
    assert store.claim_alert("lead-1", "h.ito.email", at) and not store.claim_alert("lead-1", "h.ito.email", at)
    assert store.alert_delivered("lead-1", "h.ito.email")
