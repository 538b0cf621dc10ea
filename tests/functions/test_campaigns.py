"""Campaigns under moto: scheduled, started by the dispatcher, fanned out by the audience workers and sent by
the sender, with redeliveries everywhere: each member gets it once, nobody else, and a cancel stops it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from nurture import keys
from nurture.adapters.audience_queue import AudienceQueue
from nurture.adapters.audience_store import DynamoAudienceStore
from nurture.adapters.campaign_store import DynamoCampaignStore
from nurture.adapters.dynamo import to_item
from nurture.adapters.send_queue import SendQueue
from nurture.config import load_config
from nurture.domain.campaigns.lifecycle import cancel, schedule
from nurture.domain.campaigns.start import start_due_campaigns
from nurture.local.functions import LambdaContext
from nurture.local.queues import sqs_event
from nurture.local.resources import LocalResources
from nurture.queues import audience, sender
from tests.conftest import CONFIG_DIR
from tests.functions.step_emails import outbox

RESOURCES = LocalResources()
CAMPAIGN = "newsletter-2027-01"  # shipped: to `mailable`, 2027-01-13 10:00 in Tokyo
SCHEDULED_AT = datetime(2027, 1, 6, 1, 0, tzinfo=UTC)
SENDING_AT = datetime(2027, 1, 13, 1, 5, tzinfo=UTC)  # 10:05 in Tokyo, a Wednesday
CONTEXT = LambdaContext(function_name="nurture-test", memory_limit_in_mb=512, timeout_seconds=120)


def add_lead(n: int, consent: bool = True, status: str = "active", timezone: str | None = None,
             opted_out_of: tuple[str, ...] = ()) -> str:
    lead_id = f"{n:032x}"
    boto3.client("dynamodb").put_item(TableName=RESOURCES.table_name, Item=to_item({
        "PK": keys.lead_pk(lead_id), "SK": keys.PROFILE, "email": f"reader{n}@example.co.jp",
        "email_key": f"key{n}", "name": f"読者{n}", "company": "株式会社サンプル", "language": "ja",
        "status": status, "consent": {"granted": consent}, "rank": "C", "rank_pk": keys.rank_pk("C"),
        "rank_sk": keys.rank_sk(0, lead_id), "scoring": {"version": 1},
        **({"timezone": timezone} if timezone else {}),
        **({"subscriptions": {kind: {"choice": "out", "at": "2026-12-01T01:00:00.000000Z", "via": "preference_page"}
                              for kind in opted_out_of}} if opted_out_of else {})}))
    return lead_id


def start(campaigns: DynamoCampaignStore, config: Any, now: datetime) -> Any:
    """One dispatcher tick's campaign part."""
    return start_due_campaigns(campaigns, DynamoAudienceStore(RESOURCES.table_name),
                               AudienceQueue(RESOURCES.queue_url(RESOURCES.audience_queue)), lambda version: config,
                               now)


def messages(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=RESOURCES.queue_url(queue), MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", []):
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=RESOURCES.queue_url(queue), ReceiptHandle=message["ReceiptHandle"])
    return found


def run_workers(parts: list[dict[str, Any]], state_of: Any, config: Any) -> None:
    store = DynamoAudienceStore(RESOURCES.table_name)
    for part in parts:
        response = audience.handle_batch(
            sqs_event([part], "arn:aws:sqs:ap-northeast-1:123456789012:a", RESOURCES.region), CONTEXT, store,
            AudienceQueue(RESOURCES.queue_url(RESOURCES.audience_queue)),
            SendQueue(RESOURCES.queue_url(RESOURCES.send_queue)), state_of, lambda version: config,
            lambda: SENDING_AT)
        assert response == {"batchItemFailures": []}


def run_sender(sends: list[dict[str, Any]], config: Any, now: datetime = SENDING_AT) -> None:
    from functions.sender.handler import collaborators, composer

    store, mailer, campaigns = collaborators()
    for start in range(0, len(sends), 10):
        event = sqs_event(sends[start:start + 10], "arn:aws:sqs:ap-northeast-1:123456789012:s", RESOURCES.region)
        response = sender.handle_batch(event, store, mailer, composer, config, lambda: now,
                                       campaigns.state, lambda version: config)
        assert response == {"batchItemFailures": []}


def sent_to() -> list[str]:
    """Who SES sent to, as the emulator recorded it."""
    return sorted(str(email["To"]) for email in outbox())


@pytest.fixture
def scheduled(aws: None) -> Any:
    config = load_config(CONFIG_DIR)
    campaigns = DynamoCampaignStore(RESOURCES.table_name)
    campaigns.put(schedule(config, CAMPAIGN, None, 1, "marketing", SCHEDULED_AT), None)
    return config, campaigns


def test_each_member_gets_the_campaign_once_whatever_is_delivered_twice_and_nobody_else_gets_it(scheduled: Any):
    config, campaigns = scheduled
    members = [add_lead(n) for n in range(23)]
    add_lead(100, consent=False)
    add_lead(101, status="unsubscribed")
    started_early = start(campaigns, config, SCHEDULED_AT)
    assert started_early.started == []
    evening = start(campaigns, config, datetime(2027, 1, 13, 10, 0, tzinfo=UTC))  # 19:00 Tokyo
    assert evening.waiting == [CAMPAIGN] and messages(RESOURCES.audience_queue) == []

    # Two ticks both start it (the second finds the state moved on, the job made): parts are queued twice.
    for _ in range(2):
        start(campaigns, config, SENDING_AT)
    parts = messages(RESOURCES.audience_queue)
    assert len(parts) == 4  # the second tick found it sending: nothing queued again
    run_workers(parts + parts[:2], campaigns.state, config)  # two parts redelivered
    sends = messages(RESOURCES.send_queue)
    assert sorted({json.loads(m["Body"])["lead_id"] for m in sends}) == members
    run_sender(sends + sends[:5], config)  # five sends redelivered

    assert sent_to() == sorted(f"reader{n}@example.co.jp" for n in range(23))
    email = outbox()[0]
    assert email["Subject"] == config.templates["newsletter_2027_01"].ja.subject
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    counts = campaigns.counts(CAMPAIGN)
    assert counts.get("sent") == 23 and set(counts) <= {"sent"}
    state = campaigns.state(CAMPAIGN)
    assert state is not None and state.status == "sending" and state.job_id
    (row,) = campaign_report(config)
    assert (row["audience"], row["sent"], row["skipped"], row["failed"]) == (23, 23, {}, 0)


def test_a_cancel_stops_what_has_not_gone_out(scheduled: Any):
    config, campaigns = scheduled
    for n in range(12):
        add_lead(n)
    start(campaigns, config, SENDING_AT)
    run_workers(messages(RESOURCES.audience_queue), campaigns.state, config)
    sends = messages(RESOURCES.send_queue)
    run_sender(sends[:4], config)
    current = campaigns.state(CAMPAIGN)
    campaigns.put(cancel(current, CAMPAIGN, SENDING_AT), current.status)

    run_sender(sends[4:], config)

    assert len(sent_to()) == 4
    assert campaigns.counts(CAMPAIGN) == {"sent": 4, "skipped_cancelled": 8}
    (row,) = campaign_report(config)
    assert (row["campaign"], row["audience"], row["sent"], row["skipped"]) == (CAMPAIGN, 12, 4, {"cancelled": 8})


def test_a_lead_opted_out_of_the_campaigns_type_is_skipped_and_counted_and_other_types_do_not_matter(
        scheduled: Any):
    config, campaigns = scheduled
    for n in range(3):
        add_lead(n, opted_out_of=("newsletter",))
    for n in range(3, 5):
        add_lead(n, opted_out_of=("seminar", "step_emails"))
    start(campaigns, config, SENDING_AT)
    run_workers(messages(RESOURCES.audience_queue), campaigns.state, config)
    run_sender(messages(RESOURCES.send_queue), config)

    assert sent_to() == ["reader3@example.co.jp", "reader4@example.co.jp"]
    assert campaigns.counts(CAMPAIGN) == {"sent": 2, "skipped_opted_out_of_type": 3}
    (row,) = campaign_report(config)
    assert (row["audience"], row["sent"], row["skipped"]) == (5, 2, {"opted_out_of_type": 3})


def campaign_report(config: Any) -> list[dict[str, Any]]:
    """The KPI report's campaign section over January 2027."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.report import Period, build_report

    report = build_report(DynamoLeadStore(RESOURCES.table_name).report_items(),
                          Period(date(2027, 1, 1), date(2027, 1, 31), ZoneInfo("Asia/Tokyo")), config.sequences,
                          config.scoring, SENDING_AT)
    assert all(row["sequence"] != "campaign" for row in report["steps"])
    rows: list[dict[str, Any]] = report["campaigns"]
    return rows


def test_a_campaign_its_config_version_no_longer_has_is_cancelled_not_retried_for_ever(scheduled: Any):
    config, campaigns = scheduled
    without = dataclasses.replace(config, campaigns=dataclasses.replace(config.campaigns, campaigns={}))

    result = start(campaigns, without, SENDING_AT)

    assert result.dropped == [CAMPAIGN] and result.started == []
    state = campaigns.state(CAMPAIGN)
    assert state is not None and state.status == "cancelled"


def with_campaign(config: Any, **changes: Any) -> Any:
    """The shipped config with the campaign changed (as a marketer would edit campaigns.yaml and push)."""
    campaign = dataclasses.replace(config.campaigns.campaigns[CAMPAIGN], **changes)
    campaigns = dataclasses.replace(config.campaigns, campaigns={**config.campaigns.campaigns, CAMPAIGN: campaign})
    return dataclasses.replace(config, campaigns=campaigns)


def click_as_a_person(email: Any) -> None:
    """Follow the email's first tracked link, from a browser."""
    import re

    from nurture.local.functions import api_request

    html = email.get_body(("html",)).get_content()
    path = re.search(r"/v1/t/c/[A-Za-z0-9._~-]+", html)
    assert path is not None
    response = api_request("GET", path.group(0), headers={"user-agent": "Mozilla/5.0 (Macintosh)"})
    assert response is not None and response["statusCode"] == 302


def test_an_ab_test_sends_variants_to_its_share_then_the_winner_to_everyone_else_and_nobody_twice(aws: None):
    from datetime import timedelta

    from nurture.config.campaigns import ABTest, Subjects
    from nurture.domain.campaigns.ab import variant_in_test

    test = ABTest(subjects=[Subjects(ja="件名A: 導入事例"), Subjects(ja="件名B: 3分で読める事例")], test_share=50,
                  wait_hours=4)
    config = with_campaign(load_config(CONFIG_DIR), ab_test=test)
    campaigns = DynamoCampaignStore(RESOURCES.table_name)
    campaigns.put(schedule(config, CAMPAIGN, None, 1, "marketing", SCHEDULED_AT), None)
    members = [add_lead(n) for n in range(160)]
    tested = {lead: variant_in_test(lead, CAMPAIGN, test) for lead in members}
    in_test = sorted(lead for lead, variant in tested.items() if variant is not None)
    assert 60 < len(in_test) < 100

    assert start(campaigns, config, SENDING_AT).started == [CAMPAIGN]
    run_workers(messages(RESOURCES.audience_queue), campaigns.state, config)
    sends = messages(RESOURCES.send_queue)
    assert sorted(json.loads(m["Body"])["lead_id"] for m in sends) == in_test  # only the test's share
    run_sender(sends + sends[:7], config)
    by_address = {f"reader{int(lead, 16)}@example.co.jp": lead for lead in members}
    first = outbox()
    assert len(first) == len(in_test)
    for email in first:
        assert email["Subject"] == test.subjects[tested[by_address[str(email["To"])]] or 0].ja
    for email in first:  # a quarter of variant b's readers click, twice each; nobody clicks variant a
        lead = by_address[str(email["To"])]
        if tested[lead] == 1 and int(lead, 16) % 2 == 0:
            click_as_a_person(email)
            click_as_a_person(email)

    assert start(campaigns, config, SENDING_AT + timedelta(hours=3)).decided == []  # still waiting
    decided = start(campaigns, config, SENDING_AT + timedelta(hours=4, minutes=1))
    assert decided.decided == [CAMPAIGN]
    state = campaigns.state(CAMPAIGN)
    assert state is not None and state.decision is not None and state.rest_job_id
    assert state.decision.winner == 1 and state.decision.significant, state.decision.reason
    b_clickers = sum(1 for lead in in_test if tested[lead] == 1 and int(lead, 16) % 2 == 0)
    assert [v.clicked for v in state.decision.variants] == [0, b_clickers]  # people, once per email
    assert start(campaigns, config, SENDING_AT + timedelta(hours=5)).decided == []  # decided once

    run_workers(messages(RESOURCES.audience_queue), campaigns.state, config)
    rest = messages(RESOURCES.send_queue)
    assert sorted(json.loads(m["Body"])["lead_id"] for m in rest) == sorted(set(members) - set(in_test))
    run_sender(rest + rest[:5] + sends[:3], config)  # redeliveries of both phases

    assert sent_to() == sorted(by_address)  # every member once
    assert {str(email["Subject"]) for email in outbox()[len(first):]} == {test.subjects[1].ja}
    (row,) = campaign_report(config)
    assert row["sent"] == 160
    assert [(v["variant"], v["sent"]) for v in row["ab_test"]["variants"]] == [
        ("a", sum(1 for lead in in_test if tested[lead] == 0)), ("b", sum(1 for lead in in_test if tested[lead] == 1))]
    assert row["ab_test"]["variants"][1]["clicked"] == b_clickers and row["ab_test"]["decision"]["winner"] == "b"
    assert json.loads(json.dumps(row))["ab_test"]["decision"]["significant"] is True  # `nurture report --json`


def test_on_a_send_on_date_a_lead_abroad_gets_it_when_its_own_window_opens_not_at_tokyos(aws: None):
    from datetime import date, timedelta

    from nurture.domain.campaigns.start import release_held

    config = with_campaign(load_config(CONFIG_DIR), send_at=None, send_on=date(2027, 1, 13))
    campaigns = DynamoCampaignStore(RESOURCES.table_name)
    campaigns.put(schedule(config, CAMPAIGN, None, 1, "marketing", SCHEDULED_AT), None)
    add_lead(1)
    add_lead(2, timezone="America/New_York")
    opens = datetime(2027, 1, 13, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo: 19:00 of the 12th in New York
    send_queue = SendQueue(RESOURCES.queue_url(RESOURCES.send_queue))

    assert start(campaigns, config, opens).started == [CAMPAIGN]
    run_workers(messages(RESOURCES.audience_queue), campaigns.state, config)
    sends = messages(RESOURCES.send_queue)
    run_sender(sends + sends, config, opens)
    assert sent_to() == ["reader1@example.co.jp"]
    assert campaigns.counts(CAMPAIGN) == {"sent": 1}  # held, not skipped

    new_york_morning = datetime(2027, 1, 13, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert release_held(campaigns, send_queue, new_york_morning - timedelta(minutes=1)) == 0
    assert release_held(campaigns, send_queue, new_york_morning) == 1
    assert release_held(campaigns, send_queue, new_york_morning + timedelta(minutes=1)) == 0  # released once
    released = messages(RESOURCES.send_queue)
    run_sender(released + released, config, new_york_morning)
    assert sent_to() == ["reader1@example.co.jp", "reader2@example.co.jp"]
    assert campaigns.counts(CAMPAIGN) == {"sent": 2}


def test_a_campaign_whose_version_cannot_be_read_holds_up_no_other_and_is_tried_again(aws: None):
    from nurture.domain.errors import ConfigInvalid

    config = load_config(CONFIG_DIR)
    campaigns = DynamoCampaignStore(RESOURCES.table_name)
    campaigns.put(schedule(config, CAMPAIGN, None, 7, "marketing", SCHEDULED_AT), None)  # a version gone bad
    campaigns.put(schedule(config, "newsletter-2027-02", None, 1, "marketing", SCHEDULED_AT), None)
    add_lead(1)

    def config_of(version: int) -> Any:
        if version == 7:
            raise ConfigInvalid(["config v7/scoring.yaml: half_life_days: must be positive"])
        return config

    february = datetime(2027, 2, 10, 1, 5, tzinfo=UTC)
    result = start_due_campaigns(campaigns, DynamoAudienceStore(RESOURCES.table_name),
                                 AudienceQueue(RESOURCES.queue_url(RESOURCES.audience_queue)), config_of, february)

    assert result.started == ["newsletter-2027-02"] and list(result.failed) == [CAMPAIGN]
    assert "half_life_days" in result.failed[CAMPAIGN]
    assert campaigns.state(CAMPAIGN).status == "scheduled"  # due again next tick
