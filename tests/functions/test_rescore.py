"""`nurture rescore`: every lead afresh from its stored activity, with the current rules."""

import dataclasses
import json

import boto3
import pytest

from nurture.adapters.scoring_store import DynamoScoringStore
from nurture.config import load_config
from nurture.domain.clock import utc_now
from nurture.domain.score_batch import rescore
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import TABLE_NAME, items_under, post_json, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")
CONFIG = load_config(CONFIG_DIR)
RULES = CONFIG.scoring
LEAD = {"email": "rescore@example.co.jp", "name": "R", "company": "C", "title": "部長", "consent": True}


def rules_with(**points: int):
    engagement = [dataclasses.replace(rule, points=points.get(rule.id, rule.points)) for rule in RULES.engagement]
    return dataclasses.replace(RULES, engagement=engagement)


def rescore_now(lead_id: str, rules=RULES, url_groups=CONFIG.segments.url_groups):
    return rescore(lead_id, DynamoScoringStore(LocalResources().table_name), rules, utc_now(), 30,
                   click_burst_seconds=CONFIG.bots.click_burst_seconds, url_groups=url_groups)


def scored(form: str = "contact") -> str:
    pipeline = Pipeline()
    lead_id = submit(f"/v1/forms/{form}", {**LEAD, "phone": "03-1234-5678"})
    pipeline.drain()
    return lead_id


def test_new_points_apply_to_past_activity_and_a_rerun_changes_nothing():
    lead_id = scored()
    outcome = rescore_now(lead_id, rules_with(contact_form=40))
    assert outcome is not None and [(e.rule_id, e.delta) for e in outcome.ledger] == [("contact_form", 40)]
    first = profile(lead_id)
    assert float(first["engagement"]) == pytest.approx(40, abs=0.1)
    ledger = items_under(f"LEAD#{lead_id}", "SCORE#")
    assert [(i["rule_id"], i["delta"]) for i in ledger] == [("contact_form", 40)]

    rescore_now(lead_id, rules_with(contact_form=40))
    assert items_under(f"LEAD#{lead_id}", "SCORE#") == ledger
    assert float(profile(lead_id)["engagement"]) == pytest.approx(40, abs=0.1)


def test_a_rule_set_to_zero_leaves_no_ledger_entry():
    lead_id = scored()
    rescore_now(lead_id, rules_with(contact_form=0))
    assert items_under(f"LEAD#{lead_id}", "SCORE#") == []
    assert float(profile(lead_id)["engagement"]) == 0


def test_activity_before_a_recycle_stays_forgotten():
    lead_id = scored("demo")
    api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                body=json.dumps({"outcome": "recycle"}).encode())
    Pipeline().drain()
    outcome = rescore_now(lead_id)
    assert outcome is not None and outcome.ledger == [] and outcome.handoff is None
    assert profile(lead_id)["stage"] == "recycled"


def test_the_activity_summaries_are_rebuilt_with_the_url_groups_of_today():
    pipeline = Pipeline()
    lead_id = submit("/v1/forms/whitepaper", {**LEAD, "vid": "rescore-visitor"})
    assert post_json("/v1/events", {"vid": "rescore-visitor", "type": "page_view",
                                    "url": "https://example.jp/pricing?plan=pro"})["statusCode"] == 204
    pipeline.drain()
    kept = profile(lead_id)["activity"]
    assert kept["types"]["page_view"]["n"] == 1 and kept["forms"]["whitepaper"]["n"] == 1
    boto3.client("dynamodb").update_item(  # summaries gone wrong, or kept before a url group was added
        TableName=TABLE_NAME, Key={"PK": {"S": f"LEAD#{lead_id}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET activity = :nothing", ExpressionAttributeValues={":nothing": {"M": {}}})
    rescore_now(lead_id)
    rebuilt = profile(lead_id)["activity"]
    assert rebuilt == {**kept, "pages": {"pricing": {"n": 1, "last": kept["types"]["page_view"]["last"]}}}
    rescore_now(lead_id)
    assert profile(lead_id)["activity"] == rebuilt


def test_an_erased_lead_is_skipped():
    assert rescore_now("gone") is None
