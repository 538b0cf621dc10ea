"""Alerts to salespeople: who is told, what each channel shows, and how webhook posts are signed."""

import json
from datetime import UTC, datetime

import pytest

from nurture.config import load_config
from nurture.config.records import validated
from nurture.config.sales import SalesConfig
from nurture.domain.handoff import Company, Contact, HandoffMessage, Links, Owner, Reason, Reasons, Scores
from nurture.domain.sales.alerts import (
    AlertNotDelivered,
    AlertRefused,
    alert_email,
    alert_jobs,
    deliver,
    generic_payload,
    slack_payload,
    teams_payload,
)
from nurture.domain.sales.webhooks import WebhookTarget, signature, signature_valid, signed_post, target_from_parameter
from nurture.queues.notifier import retry_delay
from tests.conftest import CONFIG_DIR

SHIPPED = load_config(CONFIG_DIR).sales
SECRET = "whsec_0123456789abcdef0123"
HOSTILE_NAME = "<!channel> 山田 & <b>急</b> **至急**"
LINKING_COMPANY = "<https://evil.example|今すぐクリック> [click](https://evil.example)"


def handoff(owner: Owner | None, name: str = "山田 太郎", company: str = "株式会社サンプル") -> HandoffMessage:
    return HandoffMessage.of(
        handoff_id="h-1", handed_off_at="2026-12-03T01:00:00Z", lead_id="lead-1",
        contact=Contact.of(email="yamada@example.co.jp", name=name, title="部長"), company=Company.of(name=company),
        owner=owner, consent=None, account=None, scores=Scores.of(fit=20, engagement=65, total=85), rank="A",
        reasons=Reasons.of(top=[Reason.of(rule_id="demo_request", kind="engagement", points=50, reason="デモ依頼")],
                        patterns=[]),
        activities=[{"type": "form_submit", "occurred_at": "2026-12-03T00:59:00Z", "form_id": "demo"}],
        links=Links.of(lead="https://api.example/v1/leads/lead-1", feedback="https://api.example/v1/leads/lead-1/feedback"))


def person(owner_id: str) -> Owner:
    return Owner.of(id=owner_id, kind="person", name=None, email=None, team=None, rule="r", strategy="fixed",
                 reason="担当地域")


def test_the_owner_is_told_on_each_of_their_channels_and_a_queues_team_lead_for_a_queue():
    assert [(job.recipient, job.channel) for job in alert_jobs(handoff(person("ito")), SHIPPED)] == [
        ("ito", "email"), ("ito", "west_slack")]
    assert [job.channel for job in alert_jobs(handoff(person("sato")), SHIPPED)] == ["email"]
    queued = Owner.of(id="unassigned", kind="queue", name="未割当", email=None, team=None, rule=None,
                   strategy="fallback", reason="no routing rule matched")
    assert {(job.recipient, job.channel) for job in alert_jobs(handoff(queued), SHIPPED)} == {
        ("suzuki", "email"), ("suzuki", "crm_hook")}
    without_team = validated(SalesConfig, {"people": {"a": {"name": "A", "email": "a@example.co.jp"}}})
    assert alert_jobs(handoff(queued), without_team) == [] and alert_jobs(handoff(None), SHIPPED) == []
    ids = [job.alert_id for job in alert_jobs(handoff(person("ito")), SHIPPED)]
    assert ids == [job.alert_id for job in alert_jobs(handoff(person("ito")), SHIPPED)] and len(set(ids)) == 2


def test_an_alert_email_is_in_the_owners_language_and_keeps_the_leads_words_out_of_its_headers():
    japanese = alert_email(handoff(person("tanaka"), name="山田 太郎\r\nBcc: x@evil.example"), SHIPPED.people["tanaka"])
    assert japanese.subject == "[Nurture] ホットリードの担当になりました (A)"
    assert "山田 太郎 Bcc: x@evil.example" not in japanese.text  # the address-like text is dropped, not linked
    assert "ランク A / スコア 85 (属性 20, 行動 65)" in japanese.text and "デモ依頼 (+50)" in japanese.text
    assert "https://api.example/v1/leads/lead-1" in japanese.text
    english = alert_email(handoff(person("smith")), SHIPPED.people["smith"])
    assert english.subject == "[Nurture] A hot lead is yours (A)" and "Why it is hot:" in english.text


def test_a_leads_words_never_become_a_link_a_mention_or_markup_in_slack_or_teams():
    message = handoff(person("ito"), name=HOSTILE_NAME, company=LINKING_COMPANY)
    slack = slack_payload(message, SHIPPED.people["ito"])
    # mrkdwn is parsed only in the fallback text, which is escaped; the blocks' lead text is plain_text
    assert "<!channel>" not in slack["text"] and "&lt;!channel&gt;" in slack["text"]
    assert "<b>" not in slack["text"] and "&lt;b&gt;急&lt;/b&gt;" in slack["text"]
    typed = [block["text"] for block in slack["blocks"] if "text" in block and block["type"] != "header"]
    assert all(text["type"] == "plain_text" for text in typed)
    assert all(e["type"] == "plain_text" for block in slack["blocks"] if block["type"] == "context"
               for e in block["elements"])
    links = [element["url"] for block in slack["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert links == ["https://api.example/v1/leads/lead-1"]
    teams = teams_payload(message, SHIPPED.people["ito"])
    card = teams["attachments"][0]["content"]
    assert {element["type"] for element in card["body"]} == {"RichTextBlock"}  # TextRuns: no markdown
    assert [action["url"] for action in card["actions"]] == ["https://api.example/v1/leads/lead-1"]
    assert "evil.example" not in json.dumps(slack) + json.dumps(teams)


def test_the_generic_webhook_carries_the_handoff_as_sales_tooling_gets_it():
    (_, job) = alert_jobs(handoff(person("suzuki")), SHIPPED)
    payload = generic_payload(job)
    assert payload["type"] == "handoff.created" and payload["delivery_id"] == job.alert_id
    assert HandoffMessage.of(**payload["handoff"]) == job.handoff


def test_a_signature_holds_only_for_its_body_secret_and_a_recent_time():
    body, headers = signed_post(WebhookTarget("https://hooks.example/x", SECRET), {"a": 1}, "d-1", "handoff.created",
                                now=1_800_000_000)
    given = headers["Nurture-Signature"]
    assert given.startswith("t=1800000000,v1=") and headers["Nurture-Delivery"] == "d-1"
    assert signature_valid(SECRET, given, body, now=1_800_000_100)
    assert not signature_valid(SECRET, given, body + b" ", now=1_800_000_100)  # tampered
    assert not signature_valid("another-secret-of-enough-length", given, body, now=1_800_000_100)
    assert not signature_valid(SECRET, given, body, now=1_800_000_000 + 301)  # a replay, too late
    assert not signature_valid(SECRET, None, body, now=1_800_000_000)
    assert not signature_valid(SECRET, "t=x,v1=00", body, now=1_800_000_000)
    # While a secret rotates, a receiver may be sent two v1 values: one matching is enough
    rotated = f"{given},v1={signature('old-secret-value-000', 1_800_000_000, body).rpartition('v1=')[2]}"
    assert signature_valid(SECRET, rotated, body, now=1_800_000_000)


@pytest.mark.parametrize(("value", "valid"), [
    (json.dumps({"url": "https://hooks.slack.com/services/T/B/X", "signing_secret": SECRET}), True),
    (json.dumps({"url": "http://127.0.0.1:3000/_webhooks/x", "signing_secret": SECRET}), True),
    (json.dumps({"url": "http://hooks.example/x", "signing_secret": SECRET}), False),  # not TLS
    (json.dumps({"url": "https://hooks.example/x", "signing_secret": "short"}), False),
    (json.dumps({"url": "https://hooks.example/x"}), False),
    ("https://hooks.example/x", False),
])
def test_a_webhook_parameter_must_hold_an_https_url_and_a_real_secret(value, valid):
    assert (target_from_parameter(value) is not None) == valid


def test_failed_alerts_come_back_later_and_later_up_to_a_quarter_of_an_hour():
    assert [retry_delay(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]



class Markers:
    """The notifier's markers, as the table keeps them."""

    def __init__(self, erased: bool = False) -> None:
        self.claimed: set[str] = set()
        self.erased = erased

    def lead_exists(self, lead_id):
        return not self.erased

    def claim_alert(self, lead_id, alert_id, at):
        if alert_id in self.claimed:
            return False
        self.claimed.add(alert_id)
        return True

    def release_alert(self, lead_id, alert_id):
        self.claimed.discard(alert_id)

    def alert_delivered(self, lead_id, alert_id):
        return alert_id in self.claimed

    def mark_alert_delivered(self, lead_id, alert_id, at):
        self.claimed.add(alert_id)


class FlakySes:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[str] = []

    def send_alert(self, recipient, email, alert_id):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(recipient)


class NoWebhooks:
    def target(self, webhook_id):
        raise AssertionError("no webhook expected")

    def post(self, url, body, headers):
        raise AssertionError("no post expected")


NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def email_job():
    (job, _) = alert_jobs(handoff(person("ito")), SHIPPED)
    return job


def test_an_alert_email_ses_surely_did_not_take_is_sent_by_the_retry():
    store, ses = Markers(), FlakySes(AlertNotDelivered("SES: Throttling"))
    with pytest.raises(AlertNotDelivered):
        deliver(email_job(), SHIPPED, store, ses, NoWebhooks(), NOW)
    assert deliver(email_job(), SHIPPED, store, ses, NoWebhooks(), NOW) == "sent"
    assert ses.sent == ["ito@example.co.jp"]
    assert deliver(email_job(), SHIPPED, store, ses, NoWebhooks(), NOW) == "duplicate"


def test_an_alert_email_ses_may_have_taken_is_never_sent_twice():
    store, ses = Markers(), FlakySes(AlertNotDelivered("SES did not answer", maybe_sent=True))
    with pytest.raises(AlertNotDelivered):
        deliver(email_job(), SHIPPED, store, ses, NoWebhooks(), NOW)
    assert deliver(email_job(), SHIPPED, store, ses, NoWebhooks(), NOW) == "duplicate" and ses.sent == []


def test_an_alert_ses_refuses_for_good_is_not_retried_and_nothing_of_an_erased_lead_goes_out():
    store = Markers()
    assert deliver(email_job(), SHIPPED, store, FlakySes(AlertRefused("MessageRejected")), NoWebhooks(),
                   NOW) == "refused"
    erased, ses = Markers(erased=True), FlakySes()
    assert deliver(email_job(), SHIPPED, erased, ses, NoWebhooks(), NOW) == "skipped_erased"
    assert ses.sent == [] and erased.claimed == set()
