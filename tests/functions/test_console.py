"""The console API under moto: who may read what, as the JWT authorizer passes the user's claims on."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from nurture import keys
from nurture.adapters.config_store import ConfigStore
from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
from nurture.adapters.dynamo import to_item
from nurture.config.loader import read_config_files
from nurture.domain.campaigns.calendar import build_calendar
from nurture.domain.clock import utc_now
from nurture.domain.deliverability import Verdict
from nurture.local.events import http_api_event, match_route
from nurture.local.functions import api_request, invoke
from nurture.settings import marketer_config, runtime_settings
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import items_under, profile, submit
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import dispatch_and_send, due_at, enrolled, outbox
from tests.functions.test_campaigns import RESOURCES, messages, run_sender, run_workers
from tests.functions.test_segment_scan import add_leads

pytestmark = pytest.mark.usefixtures("aws")

ADMIN = {"sub": "u-admin", "email": "admin@example.jp", "cognito:groups": ["admin"]}
MARKETER = {"sub": "u-marketer", "email": "marketer@example.jp", "cognito:groups": ["marketer"]}
TANAKA = {"sub": "u-tanaka", "email": "tanaka@example.co.jp", "cognito:groups": ["sales"]}  # config/sales.yaml's
SMITH = {"sub": "u-smith", "email": "SMITH@example.co.jp", "cognito:groups": ["sales"]}
NOBODY_IN_SALES = {"sub": "u-other", "email": "someone@example.co.jp", "cognito:groups": ["sales"]}
NO_GROUP = {"sub": "u-none", "email": "admin@example.jp"}


def console(path: str, claims: dict[str, Any] | None, query: str = "", method: str = "GET",
            payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request as the HTTP API hands it on: with the claims of a token its authorizer accepted, or with none."""
    matched = match_route(method, path)
    assert matched is not None
    route, parameters = matched
    sent = {"body": json.dumps(payload).encode(), "headers": {"content-type": "application/json"}} if payload else {}
    answer: dict[str, Any] = invoke("console", http_api_event(method, path, query=query, route=route,
                                                              path_parameters=parameters, jwt_claims=claims, **sent))
    return answer


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def hot_lead(pipeline: Pipeline, name: str) -> str:
    """A demo request from a large company: hot at once, routed to the enterprise team (tanaka, then smith)."""
    lead_id = submit("/v1/forms/demo", {"email": f"buyer@{name}.example.co.jp", "name": "担当 太郎",
                                        "company": f"大手 {name}", "title": "部長", "phone": "03-1234-5678",
                                        "consent": True, "employees": "5000"})
    pipeline.drain()
    return lead_id


@pytest.mark.parametrize("path", ["/v1/console/me", "/v1/console/leads", "/v1/console/leads/some-lead"])
def test_a_request_without_a_signed_in_user_is_401_problem_json(path: str):
    answer = console(path, None)

    assert answer["statusCode"] == 401 and answer["headers"]["Content-Type"] == "application/problem+json"
    assert body(answer)["type"].endswith("/not-signed-in")


@pytest.mark.parametrize("path", ["/v1/console/leads", "/v1/console/leads/some-lead"])
def test_a_user_in_no_console_group_is_403_and_shown_nothing(path: str):
    answer = console(path, NO_GROUP)

    assert answer["statusCode"] == 403 and body(answer)["type"].endswith("/forbidden")


def test_me_says_who_and_what_they_may_do_from_the_authorizers_string_claims():
    me = body(console("/v1/console/me", {**MARKETER, "cognito:groups": "[marketer admin]", "email_verified": "true"}))

    assert me["email"] == "marketer@example.jp" and me["groups"] == ["admin", "marketer"]
    assert "leads:erase" in me["may"]


def test_marketers_see_every_lead_of_a_rank_and_a_salesperson_only_their_own():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "big-one"), hot_lead(pipeline, "big-two")
    assert (profile(tanakas)["owner"], profile(smiths)["owner"]) == ("tanaka", "smith")
    rank = profile(tanakas)["rank"]

    for user in (ADMIN, MARKETER):
        listed = body(console("/v1/console/leads", user, f"rank={rank}"))["leads"]
        assert {lead["lead_id"] for lead in listed} >= {tanakas, smiths}
    assert [lead["lead_id"] for lead in body(console("/v1/console/leads", TANAKA))["leads"]] == [tanakas]
    assert [lead["lead_id"] for lead in body(console("/v1/console/leads", SMITH))["leads"]] == [smiths]
    assert console("/v1/console/leads", NOBODY_IN_SALES)["statusCode"] == 403


def test_marketers_list_an_owners_leads_of_a_stage_and_a_salesperson_no_one_elses():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "owned-one"), hot_lead(pipeline, "owned-two")
    stage = profile(tanakas)["stage"]

    def listed(claims: dict[str, Any], query: str) -> list[str]:
        return [lead["lead_id"] for lead in body(console("/v1/console/leads", claims, query))["leads"]]

    assert listed(MARKETER, "owner=tanaka") == [tanakas] and listed(MARKETER, "owner=smith") == [smiths]
    assert listed(MARKETER, f"owner=tanaka&stage={stage}") == [tanakas]
    assert listed(MARKETER, "owner=tanaka&stage=won") == []
    assert listed(TANAKA, f"stage={stage}") == [tanakas]
    assert console("/v1/console/leads", TANAKA, "owner=smith")["statusCode"] == 403
    no_owner = console("/v1/console/leads", MARKETER, f"stage={stage}")
    assert no_owner["statusCode"] == 422 and body(no_owner)["errors"][0]["field"] == "stage"
    assert console("/v1/console/leads", MARKETER, "owner=<script>")["statusCode"] == 422
    owners = body(console("/v1/console/me", MARKETER))["owners"]
    assert {"id": "tanaka", "name": marketer_config().sales.people["tanaka"].name} in owners
    assert body(console("/v1/console/me", TANAKA))["owners"] == []


def test_a_lead_shows_its_score_over_time_step_by_step_and_who_did_each_thing():
    pipeline = Pipeline()
    lead_id = hot_lead(pipeline, "big-three")

    lead = body(console(f"/v1/console/leads/{lead_id}", MARKETER))

    steps = [point for point in lead["score_history"] if point["rule_id"]]
    assert steps and all(point["points"] and point["at"] for point in steps)
    assert lead["score_history"][-1]["total"] == pytest.approx(lead["scores"]["total"], abs=0.01)
    assert {activity["origin"] for activity in lead["activities"]} <= {"person", "machine"}
    assert lead["activities"][0]["origin"] == "person"


def test_a_salesperson_asking_for_another_owners_lead_learns_no_more_than_of_a_missing_one():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "big-four"), hot_lead(pipeline, "big-five")

    assert console(f"/v1/console/leads/{tanakas}", TANAKA)["statusCode"] == 200
    theirs, missing = console(f"/v1/console/leads/{smiths}", TANAKA), console("/v1/console/leads/nobody", TANAKA)
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert body(theirs)["detail"].replace(smiths, "ID") == body(missing)["detail"].replace("nobody", "ID")


def test_a_lead_is_found_by_its_address_in_any_case_by_whoever_may_see_it():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "big-six"), hot_lead(pipeline, "big-seven")

    def found(user: dict[str, Any], address: str) -> list[str]:
        return [lead["lead_id"] for lead in body(console("/v1/console/leads", user, f"email={address}"))["leads"]]

    assert found(MARKETER, "Buyer@BIG-SIX.example.co.jp") == [tanakas]
    assert found(TANAKA, "buyer@big-six.example.co.jp") == [tanakas]
    assert found(TANAKA, "buyer@big-seven.example.co.jp") == []  # smith's: as if there were none
    assert found(MARKETER, "nobody@example.jp") == []
    assert smiths and console("/v1/console/leads", MARKETER, "email=not-an-address")["statusCode"] == 422


def upcoming_campaign() -> str:
    """The first campaign of the shipped config still to go out (the config's dates are fixed; today moves)."""
    config = marketer_config()
    window, now = config.sequences.send_window, utc_now()
    return next(campaign_id for campaign_id, campaign in sorted(config.campaigns.campaigns.items(),
                                                                key=lambda c: c[1].starts(window))
                if campaign.starts(window) > now)


def test_marketers_and_admins_list_the_campaigns_with_their_state_and_salespeople_do_not():
    listed = body(console("/v1/console/campaigns", MARKETER))["campaigns"]

    assert {row["id"] for row in listed} == set(marketer_config().campaigns.campaigns)
    assert {row["status"] for row in listed} == {"draft"}
    assert console("/v1/console/campaigns", TANAKA)["statusCode"] == 403
    assert console(f"/v1/console/campaigns/{upcoming_campaign()}", TANAKA)["statusCode"] == 403


def test_a_marketer_schedules_and_cancels_a_campaign_and_each_change_is_recorded_with_who_and_when():
    campaign_id = upcoming_campaign()
    scheduled = console(f"/v1/console/campaigns/{campaign_id}/schedule", MARKETER, method="POST")
    assert scheduled["statusCode"] == 200
    assert (body(scheduled)["status"], body(scheduled)["scheduled_by"]) == ("scheduled", "marketer@example.jp")
    again = console(f"/v1/console/campaigns/{campaign_id}/schedule", ADMIN, method="POST")
    assert again["statusCode"] == 409 and body(again)["type"].endswith("/change-refused")
    shown = body(console(f"/v1/console/campaigns/{campaign_id}", MARKETER))
    assert shown["status"] == "scheduled" and shown["counts"] == {}

    cancelled = console(f"/v1/console/campaigns/{campaign_id}/cancel", ADMIN, method="POST")
    assert cancelled["statusCode"] == 200 and body(cancelled)["status"] == "cancelled"
    assert console(f"/v1/console/campaigns/{campaign_id}/cancel", ADMIN, method="POST")["statusCode"] == 409

    changes = body(console("/v1/console/home", ADMIN))["changes"]
    assert [(c["action"], c["target"], c["by"]) for c in changes] == [
        ("campaign.cancel", campaign_id, "admin@example.jp"), ("campaign.schedule", campaign_id, "marketer@example.jp")]
    assert changes[1]["config_version"] == 1 and changes[0]["at"] > changes[1]["at"]


def test_a_salesperson_changes_no_campaign_and_an_unknown_campaign_is_404():
    campaign_id = upcoming_campaign()

    assert console(f"/v1/console/campaigns/{campaign_id}/schedule", TANAKA, method="POST")["statusCode"] == 403
    assert body(console(f"/v1/console/campaigns/{campaign_id}", MARKETER))["state"] is None
    unknown = console("/v1/console/campaigns/no-such-campaign/schedule", MARKETER, method="POST")
    assert unknown["statusCode"] == 404 and body(unknown)["type"].endswith("/campaign-not-found")
    assert body(console("/v1/console/home", ADMIN))["changes"] == []


def test_only_an_admin_resumes_paused_sending_and_only_a_real_resume_is_recorded():
    guard = DynamoDeliverabilityStore(runtime_settings().table_name)
    guard.pause(Verdict(100, 9, 0, 0.09, 0.0, True, False, "bounce rate 9.00%"), "2026-12-01T00:00:00.000000Z")
    paused = body(console("/v1/console/home", MARKETER))["deliverability"]
    assert (paused["state"], paused["reason"], paused["pause_bounce_rate"]) == ("paused", "bounce rate 9.00%", 0.04)

    assert console("/v1/console/sending/resume", MARKETER, method="POST")["statusCode"] == 403
    assert guard.sending_paused()
    assert body(console("/v1/console/sending/resume", ADMIN, method="POST")) == {"resumed": True}
    assert body(console("/v1/console/sending/resume", ADMIN, method="POST")) == {"resumed": False}

    home = body(console("/v1/console/home", ADMIN))
    assert home["deliverability"]["state"] == "ok" and not guard.sending_paused()
    assert [(c["action"], c["by"]) for c in home["changes"]] == [("sending.resume", "admin@example.jp")]


def test_home_sets_this_weeks_sending_beside_the_week_before():
    table = boto3.client("dynamodb")
    today = utc_now().date()
    for age, sent, bounced in ((0, 40, 1), (6, 10, 0), (7, 30, 2), (13, 5, 0), (14, 99, 9)):
        day = (today - timedelta(days=age)).isoformat()
        table.put_item(TableName=runtime_settings().table_name, Item={
            "PK": {"S": keys.GUARD_PK}, "SK": {"S": keys.guard_day_sk(day, "x")}, "day": {"S": day},
            "sent": {"N": str(sent)}, "bounced": {"N": str(bounced)}})

    sending = body(console("/v1/console/home", MARKETER))["sending"]

    assert sending == {"this_week": {"sent": 50, "bounced": 1, "complained": 0},
                       "previous_week": {"sent": 35, "bounced": 2, "complained": 0}}
    assert console("/v1/console/home", TANAKA)["statusCode"] == 403


def test_a_marketer_gives_a_lead_to_another_salesperson_with_the_record_of_who_and_why_and_sales_may_not():
    pipeline = Pipeline()
    lead_id = hot_lead(pipeline, "given")  # tanaka's: the enterprise team
    path = f"/v1/console/leads/{lead_id}/owner"
    assert console(path, TANAKA, method="POST", payload={"owner": "smith", "reason": "休暇"})["statusCode"] == 403
    unknown = console(path, MARKETER, method="POST", payload={"owner": "nobody", "reason": "x"})
    assert unknown["statusCode"] == 422 and profile(lead_id)["owner"] == "tanaka"

    given = body(console(path, MARKETER, method="POST", payload={"owner": "smith", "reason": "担当替え"}))
    assert (given["owner"]["id"], given["previous"]["id"], given["changed"]) == ("smith", "tanaka", True)
    assert profile(lead_id)["owner"] == "smith"
    moved = [a for a in body(console(f"/v1/console/leads/{lead_id}", MARKETER))["activities"]
             if a["type"] == "owner_changed"]
    assert [(a["from"], a["to"], a["by"], a["reason"]) for a in moved] == [
        ("tanaka", "smith", "marketer@example.jp", "担当替え")]
    (record,) = body(console("/v1/console/home", ADMIN))["changes"]
    assert (record["action"], record["target"], record["by"], record["owner"]) == (
        "lead.reassign", lead_id, "marketer@example.jp", "smith")
    assert console(f"/v1/console/leads/{'0' * 32}/owner", MARKETER, method="POST",
                   payload={"owner": "smith", "reason": "x"})["statusCode"] == 404


def test_an_admin_erases_a_lead_with_its_record_and_nobody_else_may():
    lead_id = hot_lead(Pipeline(), "erasable")
    path = f"/v1/console/leads/{lead_id}"

    for someone in (MARKETER, TANAKA):
        refused = console(path, someone, method="DELETE")
        assert refused["statusCode"] == 403 and body(refused)["type"].endswith("/forbidden")
    assert profile(lead_id)["lead_id"] == lead_id
    assert console(path, ADMIN, method="DELETE")["statusCode"] == 204

    assert items_under(f"LEAD#{lead_id}") == [] and console(path, ADMIN)["statusCode"] == 404
    assert console(path, ADMIN, method="DELETE")["statusCode"] == 404  # nothing left, nothing recorded
    (record,) = body(console("/v1/console/home", ADMIN))["changes"]
    assert (record["action"], record["target"], record["by"]) == ("lead.erase", lead_id, "admin@example.jp")
    assert "erasable" not in json.dumps(record)  # the lead's id only: no address in the record


def test_home_counts_the_days_kpis_as_the_scorer_applies_activity_and_a_replayed_batch_counts_nothing_again():
    pipeline = Pipeline()
    hot_lead(pipeline, "counted")  # a demo request: a new lead, a form converted, hot at once and handed off

    home = body(console("/v1/console/home", MARKETER))
    week = home["kpis"]["this_week"]
    assert (week["new_leads"], week["conversions"], week["handoffs"], week["sent"]) == (1, 1, 1, 0)
    assert home["kpis"]["this_month"] == week and home["kpis"]["previous_week"]["new_leads"] == 0
    assert len(home["trend"]) == 8 and home["trend"][-1]["new_leads"] == 1
    for batch in pipeline.batches["scoring"]:
        invoke("scoring", batch)  # the stream delivers the batches again

    assert body(console("/v1/console/home", MARKETER))["kpis"]["this_week"] == week


def test_the_home_funnel_follows_a_lead_from_its_form_to_a_won_deal_this_month():
    pipeline = Pipeline()
    lead_id = hot_lead(pipeline, "funnel")
    won = api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                      body=json.dumps({"outcome": "won"}).encode())
    assert won is not None and won["statusCode"] == 200
    pipeline.drain()

    stages = body(console("/v1/console/home", MARKETER))["funnel"]
    assert [(stage["stage"], stage["count"], stage["of_previous"]) for stage in stages] == [
        ("new_leads", 1, None), ("handoffs", 1, 1.0), ("accepted", 1, 1.0), ("won", 1, 1.0)]


def test_a_campaign_is_previewed_in_each_language_for_a_sample_lead_with_links_that_lead_nowhere():
    campaign_id = upcoming_campaign()

    previews = body(console(f"/v1/console/campaigns/{campaign_id}/preview", MARKETER))["previews"]

    assert {(p["language"], p["variant"]) for p in previews} == {("ja", None), ("en", None)}
    japanese = next(p for p in previews if p["language"] == "ja")
    assert japanese["subject"] and "テスト" in japanese["text"]  # the sample lead's name where the template greets
    assert "https://preview.invalid/v1/unsubscribe/" in japanese["text"]
    assert console(f"/v1/console/campaigns/{campaign_id}/preview", TANAKA)["statusCode"] == 403
    assert console("/v1/console/campaigns/nothing-like-it/preview", MARKETER)["statusCode"] == 404


def test_an_ab_tested_campaign_is_previewed_with_each_variants_subject():
    campaign_id, campaign = next((name, campaign) for name, campaign in marketer_config().campaigns.campaigns.items()
                                 if campaign.ab_test)
    assert campaign.ab_test is not None

    previews = body(console(f"/v1/console/campaigns/{campaign_id}/preview", ADMIN))["previews"]

    japanese = {p["variant"]: p["subject"] for p in previews if p["language"] == "ja"}
    assert japanese == {"a": campaign.ab_test.subjects[0].ja, "b": campaign.ab_test.subjects[1].ja}


def test_a_campaigns_test_goes_to_a_seed_only_through_the_sender_marked_as_a_test_in_each_variant():
    config = marketer_config()
    campaign_id, campaign = next((name, campaign) for name, campaign in config.campaigns.campaigns.items()
                                 if campaign.ab_test and campaign.seeds)
    path = f"/v1/console/campaigns/{campaign_id}/test"

    refused = console(path, MARKETER, method="POST", payload={"to": "someone@example.com"})
    assert refused["statusCode"] == 422 and body(refused)["errors"][0]["field"] == "to"
    assert console(path, TANAKA, method="POST", payload={"to": campaign.seeds[0]})["statusCode"] == 403
    queued = console(path, MARKETER, method="POST", payload={"to": campaign.seeds[0], "language": "en"})
    assert queued["statusCode"] == 202

    sends = messages(RESOURCES.send_queue)
    assert [json.loads(send["Body"])["kind"] for send in sends] == ["campaign_test"]  # the others were refused
    run_sender(sends, config)
    emails = outbox()
    assert {str(email["To"]) for email in emails} == {campaign.seeds[0]}
    assert sorted(str(email["Subject"]) for email in emails) == [f"[TEST A] {campaign.ab_test.subjects[0].en}",
                                                                 f"[TEST B] {campaign.ab_test.subjects[1].en}"]
    (record,) = body(console("/v1/console/home", ADMIN))["changes"]
    assert (record["action"], record["target"], record["language"]) == ("campaign.test", campaign_id, "en")
    assert campaign.seeds[0] not in json.dumps(record)


def test_config_versions_show_what_each_changed_and_an_admin_rolls_back_only_the_version_the_page_showed():
    store = ConfigStore(runtime_settings().config_bucket)
    files = read_config_files(CONFIG_DIR)
    store.publish({**files, "campaigns.yaml": files["campaigns.yaml"].replace("メルマガ 2027年1月号", "1月号（改）")},
                  "marketing@example.jp", "2026-12-05T00:00:00.000000Z")

    listed = body(console("/v1/console/config", MARKETER))
    assert (listed["active"]["version"], listed["active"]["activated_by"]) == (2, "marketing@example.jp")
    assert [version["number"] for version in listed["versions"]] == [2, 1]
    changed = body(console("/v1/console/config/versions/2/diff", MARKETER))
    assert changed["against"] == 1 and "--- v1/campaigns.yaml\n+++ v2/campaigns.yaml\n" in changed["diff"]
    assert "\n+    name: 1月号（改）" in changed["diff"]
    assert console("/v1/console/config/versions/9/diff", MARKETER)["statusCode"] == 404
    assert console("/v1/console/config", TANAKA)["statusCode"] == 403

    rollback = "/v1/console/config/rollback"
    assert console(rollback, MARKETER, method="POST", payload={"expected_version": 2})["statusCode"] == 403
    stale = console(rollback, ADMIN, method="POST", payload={"expected_version": 1})  # a page from before the push
    assert stale["statusCode"] == 409 and store.pointer().version == 2
    assert body(console(rollback, ADMIN, method="POST", payload={"expected_version": 2})) == {"version": 1, "was": 2}
    assert store.pointer().version == 1
    assert console(rollback, ADMIN, method="POST", payload={"expected_version": 1})["statusCode"] == 409  # the deploy's

    (record,) = body(console("/v1/console/home", ADMIN))["changes"]
    assert (record["action"], record["target"], record["by"], record["from_version"]) == (
        "config.rollback", "1", "admin@example.jp", 2)


def test_a_change_typed_on_the_page_is_checked_and_shown_as_a_diff_and_only_an_admin_pushes_it_over_the_version_seen():
    store = ConfigStore(runtime_settings().config_bucket)
    shown = body(console("/v1/console/config/files", MARKETER))
    assert shown["version"] == 1 and shown["files"] == read_config_files(CONFIG_DIR)
    # A segment's description: no campaign time involved, so the check's answer does not move with the clock.
    segments = shown["files"]["segments.yaml"].replace("重点業種 (製造・情報通信・金融)", "重点業種（画面から）")
    change = {"files": {"segments.yaml": segments}, "expected_version": 1}

    checked = body(console("/v1/console/config/check", MARKETER, method="POST", payload=change))
    assert checked["problems"] == [] and "\n+    description: 重点業種（画面から）" in checked["diff"]
    assert console("/v1/console/config/push", MARKETER, method="POST", payload=change)["statusCode"] == 403
    assert store.pointer().version == 1

    broken = {"files": {"scoring.yaml": "hot_threshold: [", "../secrets.yaml": "x: 1"}, "expected_version": 1}
    refused = console("/v1/console/config/check", MARKETER, method="POST", payload=broken)
    assert refused["statusCode"] == 422 and "not a config file" in refused["body"]  # no other name is stored
    invalid = {"files": {"scoring.yaml": "hot_threshold: ["}, "expected_version": 1}
    assert body(console("/v1/console/config/check", MARKETER, method="POST", payload=invalid))["problems"]
    failed = console("/v1/console/config/push", ADMIN, method="POST", payload=invalid)
    assert failed["statusCode"] == 422 and body(failed)["errors"][0]["field"] == "files"
    assert store.pointer().version == 1  # nothing pushed

    pushed = console("/v1/console/config/push", ADMIN, method="POST", payload=change)
    assert body(pushed) == {"version": 2, "was": 1}
    assert store.pointer().version == 2
    assert store.version(2).files == {**read_config_files(CONFIG_DIR), **change["files"]}
    assert console("/v1/console/config/push", ADMIN, method="POST", payload=change)["statusCode"] == 409  # stale
    assert console("/v1/console/config/check", MARKETER, method="POST", payload=change)["statusCode"] == 409
    assert store.pointer().version == 2
    (record,) = body(console("/v1/console/home", ADMIN))["changes"]
    assert (record["action"], record["target"], record["from_version"]) == ("config.push", "2", 1)


def test_a_marketer_counts_a_segment_over_every_lead_by_the_audience_workers_and_previews_its_members():
    big = add_leads(30)  # every third has 1,000 employees or more: the enterprise segment
    started = console("/v1/console/segments/enterprise/count", MARKETER, method="POST")
    assert started["statusCode"] == 202
    job = f"/v1/console/segments/jobs/{body(started)['job_id']}"
    assert body(console(job, MARKETER))["done"] is False

    while parts := messages(RESOURCES.audience_queue):  # the audience workers, as their queue feeds them
        run_workers(parts, lambda _: None, marketer_config())

    counted = body(console(job, MARKETER))
    assert (counted["done"], counted["leads"], counted["profiles_scanned"]) == (True, big, 30)
    assert len(counted["preview"]) == big and all(member["lead_id"] for member in counted["preview"])
    assert "enterprise" in {segment["name"] for segment in body(console("/v1/console/segments", ADMIN))["segments"]}
    assert console("/v1/console/segments", TANAKA)["statusCode"] == 403
    assert console("/v1/console/segments/enterprise/count", TANAKA, method="POST")["statusCode"] == 403
    assert console("/v1/console/segments/no-such/count", MARKETER, method="POST")["statusCode"] == 404
    assert console(f"/v1/console/segments/jobs/{'0' * 32}", MARKETER)["statusCode"] == 404
    assert console("/v1/console/segments/jobs/not-a-job", MARKETER)["statusCode"] == 422


def test_a_marketer_finds_leads_by_part_of_a_company_name_in_any_width_and_filters_over_every_lead():
    dynamodb = boto3.client("dynamodb")
    companies = ["株式会社ＡＣＭＥジャパン", "acme trading", "Beta Works", "ACMEソリューションズ"]
    for n, company in enumerate(companies):
        lead_id = f"{n + 100:032x}"
        dynamodb.put_item(TableName=RESOURCES.table_name, Item=to_item({
            "PK": keys.lead_pk(lead_id), "SK": keys.PROFILE, "lead_id": lead_id, "email": f"p{n}@example.co.jp",
            "name": f"担当 {n}", "company": company, "status": "unsubscribed" if n == 3 else "active",
            "stage": "nurturing", "last_activity_at": f"2026-12-0{n + 1}T00:00:00.000000Z"}))

    def searched(query: dict[str, Any]) -> dict[str, Any]:
        started = console("/v1/console/leads/search", MARKETER, method="POST", payload=query)
        assert started["statusCode"] == 202, started["body"]
        while parts := messages(RESOURCES.audience_queue):
            run_workers(parts, lambda _: None, marketer_config())
        done: dict[str, Any] = body(console(f"/v1/console/leads/search/{body(started)['job_id']}", MARKETER))
        assert done["done"] is True and done["profiles_scanned"] == len(companies)
        return done

    found = searched({"text": " Acme "})
    assert sorted(lead["company"] for lead in found["preview"]) == sorted(companies[:2] + companies[3:])
    assert all(lead["last_activity_at"] for lead in found["preview"])
    active = searched({"text": "ａｃｍｅ", "status": ["active"]})  # full-width typed, the unsubscribed one left out
    assert sorted(lead["company"] for lead in active["preview"]) == sorted(companies[:2])
    assert searched({"text": "p2@example.co.jp"})["leads"] == 1
    (named,) = searched({"text": "担当 1"})["preview"]  # a name, as the workers read profiles
    assert named["company"] == companies[1]

    assert console("/v1/console/leads/search", MARKETER, method="POST", payload={"text": "  "})["statusCode"] == 422
    assert console("/v1/console/leads/search", MARKETER, method="POST",
                   payload={"stage": ["nowhere"]})["statusCode"] == 422
    assert console("/v1/console/leads/search", MARKETER, method="POST",
                   payload={"segment": "no-such"})["statusCode"] == 404
    assert console("/v1/console/leads/search", TANAKA, method="POST", payload={"text": "acme"})["statusCode"] == 403
    counted = console("/v1/console/segments/mailable/count", MARKETER, method="POST")
    assert console(f"/v1/console/leads/search/{body(counted)['job_id']}", MARKETER)["statusCode"] == 404


def test_each_sequence_shows_its_steps_in_order_with_what_each_step_sent_and_salespeople_see_none():
    lead_id = enrolled()
    dispatch_and_send(due_at(lead_id))
    assert len(outbox()) == 1
    sequence_id = profile(lead_id)["sequence"]["sequence"]

    shown = {row["id"]: row for row in body(console("/v1/console/sequences", MARKETER))["sequences"]}
    config = {sequence.id: sequence for sequence in marketer_config().sequences.sequences}
    assert list(shown) == list(config)
    steps = shown[sequence_id]["steps"]
    assert [step["id"] for step in steps] == [step.id for step in config[sequence_id].steps]
    assert (steps[0]["sent"], steps[0]["rate_base"]) == (1, "sent")
    assert all(step["sent"] == 0 for step in steps[1:])
    assert all(step["sent"] == 0 for other, row in shown.items() if other != sequence_id for step in row["steps"])
    assert console("/v1/console/sequences", TANAKA)["statusCode"] == 403


def test_the_calendar_shows_the_years_touchpoints_with_silent_months_as_the_cli_does():
    config = marketer_config()
    year = min(campaign.starts(config.sequences.send_window).year for campaign in config.campaigns.campaigns.values())
    shown = body(console("/v1/console/calendar", MARKETER, query=f"year={year}"))
    assert shown == json.loads(json.dumps(build_calendar(year, config.sequences, config.segments, config.campaigns,
                                                         ZoneInfo(config.sequences.send_window.timezone))))
    assert any(month for row in shown["segments"] for month in row["months"].values())  # the campaigns are there
    this_year = utc_now().astimezone(ZoneInfo(config.sequences.send_window.timezone)).year
    assert body(console("/v1/console/calendar", MARKETER))["year"] == this_year  # default: the marketer's year
    refused = console("/v1/console/calendar", MARKETER, query="year=1999")
    assert refused["statusCode"] == 422
    assert console("/v1/console/calendar", TANAKA)["statusCode"] == 403
