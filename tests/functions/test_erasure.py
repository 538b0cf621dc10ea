"""Erasure lasts: what an erased lead's old emails and browser still send writes nothing."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from nurture.adapters.token_keys import token_signer
from nurture.domain.tokens import click_token, open_token
from nurture.local.functions import api_request, invoke
from nurture.local.resources import LocalResources
from tests.functions.helpers import TABLE_NAME, all_items, items_under, submit
from tests.functions.test_ses_events import sqs_batch, tagged
from tests.unit.test_ses_events import sns_envelope

pytestmark = pytest.mark.usefixtures("aws")
BROWSER = {"user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"}


def erased_lead(vid: str) -> str:
    beacon = api_request("POST", "/v1/events", headers={"content-type": "text/plain"},
                         body=json.dumps({"vid": vid, "type": "page_view", "url": "https://example.jp/"}).encode())
    assert beacon is not None and beacon["statusCode"] == 204
    lead_id = submit("/v1/forms/contact", {"email": "gone@example.co.jp", "name": "消去 希望", "company": "C",
                                           "consent": True, "vid": vid})
    erased = api_request("DELETE", f"/v1/leads/{lead_id}")
    assert erased is not None and erased["statusCode"] == 204
    return lead_id


def lead_items() -> list[dict]:
    return [item for item in all_items() if item["PK"].startswith("LEAD#")]


def test_an_erased_leads_old_pixel_and_links_write_nothing_and_still_answer():
    lead_id = erased_lead("gone-visitor-01")
    signer = token_signer(LocalResources().signing_key_parameter)
    pixel = api_request("GET", f"/v1/t/o/{open_token(signer, lead_id, 'msg-1')}.gif", headers=BROWSER)
    click = api_request("GET", f"/v1/t/c/{click_token(signer, lead_id, 'https://www.example.co.jp/x', 'msg-1')}",
                        headers=BROWSER)
    assert pixel is not None and pixel["statusCode"] == 200 and pixel["headers"]["Content-Type"] == "image/gif"
    assert click is not None and click["statusCode"] == 302  # the person still gets where the link points
    assert lead_items() == []


def test_an_erased_leads_browser_is_not_tracked_again():
    erased_lead("gone-visitor-02")
    later = api_request("POST", "/v1/events", headers={"content-type": "text/plain"},
                        body=json.dumps([{"vid": "gone-visitor-02", "type": "page_view",
                                          "url": "https://example.jp/pricing"}] * 3).encode())
    assert later is not None and later["statusCode"] == 204
    assert items_under("VISITOR#gone-visitor-02", "EVT#") == [] and lead_items() == []
    (tombstone,) = items_under("VISITOR#gone-visitor-02", "IDENTITY")
    assert set(tombstone) == {"PK", "SK", "erased", "erased_at"}  # no lead, nothing personal


def test_an_ses_event_about_an_erased_leads_email_records_no_activity():
    lead_id = erased_lead("gone-visitor-03")
    response = invoke("ses_events", sqs_batch(sns_envelope(json.dumps(tagged("open", lead_id)))))
    assert response["batchItemFailures"] == [] and lead_items() == []


def test_an_erasure_between_an_ses_events_read_and_its_write_leaves_nothing_behind():
    from nurture.adapters.ses_event_store import DynamoSesEventStore
    from nurture.config import load_config
    from nurture.domain.errors import WriteConflict
    from nurture.domain.ses_events import AddressState, effect_of, parse_record
    from nurture.domain.text import email_key
    from tests.conftest import CONFIG_DIR

    lead_id = erased_lead("gone-visitor-04")
    (event,) = parse_record(tagged("delivery", lead_id))
    looked = AddressState(email_key(event.recipient), lead_id)  # as read just before the erasure
    effect = effect_of(event, looked, 730, 3, load_config(CONFIG_DIR).bots)
    with pytest.raises(WriteConflict):  # the message comes back and finds no lead
        DynamoSesEventStore(TABLE_NAME).record_ses_event(effect)
    assert lead_items() == []


def test_a_hit_that_arrives_while_the_erasure_sweeps_writes_nothing(monkeypatch):
    from nurture.adapters import lead_store

    lead_id = submit("/v1/forms/contact", {"email": "racing@example.co.jp", "name": "R", "company": "C",
                                           "consent": True})
    signer = token_signer(LocalResources().signing_key_parameter)
    sweep = lead_store.batch_delete

    def click_then_sweep(*args, **kwargs):  # the old email's link is followed mid-erasure
        token = click_token(signer, lead_id, "https://www.example.co.jp/x", "msg-1")
        assert api_request("GET", f"/v1/t/c/{token}", headers=BROWSER)["statusCode"] == 302
        sweep(*args, **kwargs)

    monkeypatch.setattr(lead_store, "batch_delete", click_then_sweep)
    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204
    assert lead_items() == []


def test_a_browsers_hit_landing_on_its_lead_just_before_the_erasure_unlinks_it_is_swept_too(monkeypatch):
    from nurture.adapters.lead_store import DynamoLeadStore

    lead_id = submit("/v1/forms/contact", {"email": "browsing@example.co.jp", "name": "B", "company": "C",
                                           "consent": True, "vid": "browsing-visitor"})
    original = DynamoLeadStore._call
    browsed = []

    def browse_then_unlink(self, operation, **kwargs):
        if operation == "put_item" and kwargs["Key" if "Key" in kwargs else "Item"]["SK"] == {"S": "IDENTITY"} \
                and not browsed:  # the browser's page view lands on the lead a moment before its tombstone
            browsed.append(api_request("POST", "/v1/events", headers={"content-type": "text/plain"}, body=json.dumps(
                {"vid": "browsing-visitor", "type": "page_view", "url": "https://example.jp/"}).encode()))
        return original(self, operation, **kwargs)

    monkeypatch.setattr(DynamoLeadStore, "_call", browse_then_unlink)
    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204
    assert [response["statusCode"] for response in browsed] == [204]
    assert lead_items() == [] and items_under("VISITOR#browsing-visitor", "EVT#") == []


def test_a_browsers_hit_read_as_its_erased_leads_writes_nothing(monkeypatch):
    from nurture.adapters.lead_store import DynamoLeadStore

    lead_id = erased_lead("gone-visitor-05")
    monkeypatch.setattr(DynamoLeadStore, "visitor_lead", lambda self, vid: lead_id)  # a read from before
    later = api_request("POST", "/v1/events", headers={"content-type": "text/plain"}, body=json.dumps(
        {"vid": "gone-visitor-05", "type": "page_view", "url": "https://example.jp/"}).encode())
    assert later is not None and later["statusCode"] == 204
    assert lead_items() == [] and items_under("VISITOR#gone-visitor-05", "EVT#") == []


def test_an_erasure_interrupted_half_way_is_finished_by_the_next_delete(monkeypatch):
    from nurture.adapters import lead_store
    from nurture.domain.errors import StoreUnavailable

    lead_id = submit("/v1/forms/contact", {"email": "halfway@example.co.jp", "name": "H", "company": "C",
                                           "consent": True, "vid": "halfway-visitor"})
    sweep = lead_store.batch_delete

    def fail(*_args, **_kwargs):
        raise StoreUnavailable("throttled")

    monkeypatch.setattr(lead_store, "batch_delete", fail)
    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 503
    assert items_under(f"LEAD#{lead_id}", "PROFILE") == []  # gone first: nothing can land any more
    monkeypatch.setattr(lead_store, "batch_delete", sweep)
    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204
    assert lead_items() == [] and api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 404
    assert [item["SK"] for item in all_items() if item["PK"].startswith(("EMAIL#", "VISITOR#"))] == ["IDENTITY"]


def test_an_erased_leads_preference_and_confirmation_links_change_nothing():
    from nurture.domain.tokens import CONFIRM, UNSUBSCRIBE

    lead_id = erased_lead("v-choices")
    before = all_items()
    keyring = token_signer(LocalResources().signing_key_parameter)
    preferences = keyring.sign(UNSUBSCRIBE, {"l": lead_id, "m": "m", "t": "seminar"})
    confirm = keyring.sign(CONFIRM, {"l": lead_id}, expires_at=datetime.now(UTC) + timedelta(days=7))
    form = {"content-type": "application/x-www-form-urlencoded"}
    for path, body, status in ((f"/v1/unsubscribe/{preferences}", b"save=1&receive=newsletter", 400),
                               (f"/v1/unsubscribe/{preferences}", b"List-Unsubscribe=One-Click", 200),
                               (f"/v1/confirm/{confirm}", b"", 410)):
        answer = api_request("POST", path, headers=form, body=body)
        assert answer is not None and answer["statusCode"] == status
    assert all_items() == before  # not a choice, an activity or a consent record: the lead stays erased
