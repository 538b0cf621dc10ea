"""The CRM push's events, its targets, the kintone request it makes, and the config checks that guard them."""

import dataclasses
import json
from typing import Any

import jsonschema
import msgspec
import pytest

from nurture.config import load_config
from nurture.config.records import validated
from nurture.config.sales import KintoneApp
from nurture.domain.sales.crm import EVENT_OF_ACTIVITY, CrmEvent, crm_jobs, from_activity, kintone_request
from nurture.table import SALES_ACTIVITIES
from tests.conftest import CONFIG_DIR, REPO
from tests.unit.sales_config import sales_problems_after

SALES = load_config(CONFIG_DIR).sales
SCHEMA_FILE = REPO / "docs" / "crm.schema.json"
PROFILE = {"email": "boss@example.co.jp", "name": "=SUM(A1)", "company": "大阪第一", "rank": "A", "stage": "accepted",
           "total": 117.5, "owner": "ito", "owner_kind": "person"}
FEEDBACK = {"type": "sales_feedback", "event_id": "e1", "occurred_at": "2026-12-07T02:00:00.000000Z",
            "lead_id": "lead1", "outcome": "accepted", "note": "来週訪問"}


def feedback_event() -> CrmEvent:
    return from_activity(FEEDBACK, PROFILE, SALES, "https://api.example/")


def test_documented_schema_is_the_one_the_code_produces_and_validates_an_event():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema == msgspec.json.schema(CrmEvent), (
        "docs/crm.schema.json is stale: regenerate it from msgspec.json.schema(CrmEvent)")
    jsonschema.Draft202012Validator(schema).validate(feedback_event().as_data())


def test_an_activity_becomes_its_event_with_the_lead_as_it_stands():
    event = feedback_event()
    assert (event.type, event.event_id, event.schema_version) == ("lead.feedback", "e1", 1)
    assert event.feedback is not None and event.feedback.note == "来週訪問" and event.call is None
    assert event.lead.owner is not None and event.lead.owner.name == "伊藤 美咲"
    assert event.lead.link == "https://api.example/v1/leads/lead1" and event.lead.score == 117.5


def test_each_event_goes_once_to_each_target_of_the_push_for_the_types_it_publishes():
    jobs = crm_jobs(feedback_event(), SALES)
    assert [(job.target, job.delivery_id) for job in jobs] == [("crm_push", "e1:crm:crm_push"),
                                                               ("kintone", "e1:crm:kintone")]
    only_handoffs = dataclasses.replace(SALES, crm=dataclasses.replace(SALES.crm, events=["lead.handed_off"]))
    assert crm_jobs(feedback_event(), only_handoffs) == []


def test_the_kintone_request_upserts_the_leads_record_by_its_id_with_mapped_text_values():
    app = KintoneApp(app=7, key_field="lead_key", fields={"name": "氏名", "phone": "電話", "rank": "ランク",
                                                          "score": "スコア"})
    assert kintone_request(feedback_event(), app) == {
        "app": 7, "upsert": True,
        "records": [{"updateKey": {"field": "lead_key", "value": "lead1"},
                     # a formula-like name made inert; no phone known: the field is left as it is
                     "record": {"氏名": {"value": "'=SUM(A1)"}, "ランク": {"value": "A"},
                                "スコア": {"value": "117.5"}}}]}


def test_every_sales_activity_the_stream_brings_has_its_event():
    assert set(SALES_ACTIVITIES) == set(EVENT_OF_ACTIVITY)


@pytest.mark.parametrize(("phone", "score", "sent_phone", "sent_score"), [
    ("+81 3-1234-5678", -12.5, "+81 3-1234-5678", "-12.5"),  # numbers stay numbers
    ("=1+cmd|' /C calc'!A0", 3.0, "'=1+cmd|' /C calc'!A0", "3"),  # a "phone" that is a formula does not
])
def test_numbers_reach_kintone_as_they_are_and_only_typed_text_is_made_inert(phone, score, sent_phone, sent_score):
    app = KintoneApp(app=7, key_field="lead_key", fields={"phone": "電話", "score": "スコア"})
    event = from_activity(FEEDBACK, {**PROFILE, "phone": phone, "total": score}, SALES, "https://api.example")
    record = kintone_request(event, app)["records"][0]["record"]
    assert record == {"電話": {"value": sent_phone}, "スコア": {"value": sent_score}}


@pytest.mark.parametrize(("app", "problem"), [
    ({"key_field": "id", "fields": {"email": "id"}}, "'id' is the key_field"),
    ({"key_field": "id", "fields": {"email": "a", "name": "a"}}, "two values go to one field code"),
    ({"key_field": "1st", "fields": {"email": "a"}}, "key_field"),
    ({"key_field": "id", "fields": {"email": "mail address"}}, "fields.email"),
    ({"key_field": "id", "fields": {"mood": "a"}}, "fields.mood"),
    ({"key_field": "id", "fields": {}}, "fields"),
])
def test_a_kintone_mapping_kintone_would_refuse_is_a_config_error(app, problem):
    with pytest.raises(ValueError, match=problem):
        validated(KintoneApp, {"app": 1, **app})


def test_crm_webhooks_must_be_generic_webhooks_and_kintone_is_a_reserved_id(tmp_path):
    def misdirected(sales: dict[str, Any]) -> None:
        sales["crm"]["webhooks"] = ["crm_push", "west_slack", "nowhere"]
        sales["webhooks"]["kintone"] = {"kind": "generic"}

    problems, where = sales_problems_after(tmp_path, misdirected)
    assert problems == {
        f"{where}crm.webhooks.1: no generic webhook 'west_slack'",
        f"{where}crm.webhooks.2: no generic webhook 'nowhere'",
        f"{where}webhooks.kintone: the id is the kintone connection's; name the webhook otherwise",
    }
