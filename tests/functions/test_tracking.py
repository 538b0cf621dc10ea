"""The tracking function under moto: beacons, the open pixel and click redirects."""

import json
import time

import boto3
import pytest

from nurture import keys
from nurture.adapters.token_keys import token_signer
from nurture.domain.tokens import click_token, open_token
from nurture.http.pages import PIXEL_GIF
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from tests.functions.helpers import all_items, body_json, events_under, items_under, lead_id_of, submit

pytestmark = pytest.mark.usefixtures("aws")


def beacon(payload, content_type="text/plain;charset=UTF-8"):
    response = api_request("POST", "/v1/events", headers={"content-type": content_type},
                           body=payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    assert response is not None
    return response


def signer():
    return token_signer(LocalResources().signing_key_parameter)


def a_lead() -> str:
    return submit("/v1/forms/contact", {"email": "t@example.jp", "name": "T", "company": "C", "consent": True})


def test_send_beacon_text_plain_records_anonymous_page_view():
    response = beacon({"vid": "anon-visitor-1", "type": "page_view", "url": "https://example.jp/",
                       "title": "トップ", "referrer": "https://www.google.com/", "extra": "ignored"})
    assert response["statusCode"] == 204
    (event,) = items_under("VISITOR#anon-visitor-1", "EVT#")
    assert (event["type"], event["url"], event["title"]) == ("page_view", "https://example.jp/", "トップ")
    assert "extra" not in event and event["expires_at"] > 0


def test_an_array_of_events_is_one_item_holding_them_in_order():
    events = [{"vid": "anon-visitor-2", "type": "page_view", "url": f"https://example.jp/{n}"} for n in range(5)]
    assert beacon(events, "application/json")["statusCode"] == 204
    (stored,) = items_under("VISITOR#anon-visitor-2", "EVT#")  # one write, one stream record (issue 20)
    assert stored["type"] == "events" and len(stored["events"]) == 5
    held = events_under("VISITOR#anon-visitor-2")
    assert [e["url"] for e in held] == [e["url"] for e in events] and len({e["event_id"] for e in held}) == 5
    assert all(e["type"] == "page_view" and e["expires_at"] == stored["expires_at"] for e in held)


def test_custom_event_needs_a_name():
    response = beacon({"vid": "anon-visitor-3", "type": "custom"})
    assert response["statusCode"] == 422
    assert [e["field"] for e in body_json(response)["errors"]] == ["name"]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        ([{"vid": "short", "type": "page_view"}], 422),
        ({"vid": "anon-visitor-4", "type": "teleport"}, 422),
        ({"vid": "anon-visitor-4", "type": "page_view", "url": "javascript:alert(1)"}, 422),
        ([{"vid": "anon-visitor-4", "type": "page_view"}] * 21, 422),
        (b'{"vid": "anon-visitor-4", "type": "page_view", "title": "' + b"x" * 40000 + b'"}', 413),
    ],
)
def test_bad_beacons_are_refused_and_nothing_is_stored(payload, status):
    response = beacon(payload)
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert all_items() == []


def test_beacon_with_unsupported_type_is_415():
    assert beacon({"vid": "anon-visitor-5", "type": "page_view"}, "application/xml")["statusCode"] == 415


def test_open_pixel_with_valid_token_records_an_open():
    lead_id = a_lead()
    response = api_request("GET", f"/v1/t/o/{open_token(signer(), lead_id, 'msg-1')}.gif",
                           headers={"user-agent": "Mozilla/5.0"})
    assert response is not None and response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "image/gif"
    assert response["headers"]["Cache-Control"].startswith("no-store")
    assert response["isBase64Encoded"] is True
    opens = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_open"]
    assert [o["message_id"] for o in opens] == ["msg-1"]


@pytest.mark.parametrize("token", ["garbage.gif", "a.b.gif", "x" * 300, "x" * 5000 + ".gif", "ü.ß.gif",
                                   "%E3%81%82.gif"])
def test_open_pixel_with_bad_token_is_still_a_gif_and_records_nothing(token):
    response = api_request("GET", f"/v1/t/o/{token}")
    assert response is not None and response["statusCode"] == 200
    import base64

    assert base64.b64decode(response["body"]) == PIXEL_GIF
    assert all_items() == []


def test_click_with_valid_token_redirects_and_records_the_click():
    lead_id = a_lead()
    token = click_token(signer(), lead_id, "https://www.example.co.jp/pricing?plan=pro", "msg-2", "pricing")
    response = api_request("GET", f"/v1/t/c/{token}")
    assert response is not None and response["statusCode"] == 302
    assert response["headers"]["Location"] == "https://www.example.co.jp/pricing?plan=pro"
    (click,) = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_click"]
    assert (click["url"], click["link"], click["message_id"]) == ("https://www.example.co.jp/pricing?plan=pro",
                                                                  "pricing", "msg-2")


def test_click_still_redirects_when_the_hit_cannot_be_stored(monkeypatch):
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.errors import StoreUnavailable

    lead_id = a_lead()
    token = click_token(signer(), lead_id, "https://www.example.co.jp/", "msg-3")

    def unavailable(*_args, **_kwargs):
        raise StoreUnavailable("throttled")

    monkeypatch.setattr(DynamoLeadStore, "record_lead_activity", unavailable)
    response = api_request("GET", f"/v1/t/c/{token}")
    assert response is not None and response["statusCode"] == 302
    pixel = api_request("GET", f"/v1/t/o/{open_token(signer(), lead_id, 'msg-3')}.gif")
    assert pixel is not None and pixel["statusCode"] == 200 and pixel["headers"]["Content-Type"] == "image/gif"


@pytest.mark.parametrize("token", ["ü.ß", "x" * 5000])
def test_non_ascii_or_huge_click_token_gets_the_400_page(token):
    response = api_request("GET", f"/v1/t/c/{token}")
    assert response is not None and response["statusCode"] == 400 and "Location" not in response["headers"]


def test_forged_click_token_gets_a_400_page_and_never_a_redirect():
    from nurture.domain.tokens import TokenSigner

    forged = click_token(TokenSigner(b"f" * 32), "lead-x", "https://evil.example/", "m")
    response = api_request("GET", f"/v1/t/c/{forged}")
    assert response is not None and response["statusCode"] == 400
    assert "Location" not in response["headers"]
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert all_items() == []


def test_a_genuine_click_token_to_a_host_the_config_does_not_allow_gets_the_400_page():
    lead_id = a_lead()
    before = len(all_items())
    token = click_token(signer(), lead_id, "https://evil.example/login", "msg-4")  # validly signed
    response = api_request("GET", f"/v1/t/c/{token}")
    assert response is not None and response["statusCode"] == 400 and "Location" not in response["headers"]
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert len(all_items()) == before  # nothing recorded


def test_a_click_to_a_japanese_url_redirects_to_its_percent_encoded_form():
    lead_id = a_lead()
    token = click_token(signer(), lead_id, "https://www.example.co.jp/資料?q=リード", "msg-5")
    response = api_request("GET", f"/v1/t/c/{token}")
    assert response is not None and response["statusCode"] == 302
    assert response["headers"]["Location"] == "https://www.example.co.jp/%E8%B3%87%E6%96%99?q=%E3%83%AA%E3%83%BC%E3%83%89"


def test_an_expired_click_still_leads_on_but_an_expired_link_records_nothing(monkeypatch):
    lead_id = a_lead()
    before = len(all_items())
    year_and_a_day_ago = int(time.time()) - 366 * 86400
    click = click_token(signer(), lead_id, "https://www.example.co.jp/x", "msg-6", sent_at=year_and_a_day_ago)
    pixel = open_token(signer(), lead_id, "msg-6", sent_at=year_and_a_day_ago)
    response = api_request("GET", f"/v1/t/c/{click}", headers={"user-agent": "Mozilla/5.0"})
    assert response is not None and response["statusCode"] == 302
    assert response["headers"]["Location"] == "https://www.example.co.jp/x"
    assert api_request("GET", f"/v1/t/o/{pixel}.gif", headers={"user-agent": "Mozilla/5.0"})["statusCode"] == 200
    assert len(all_items()) == before


def test_after_the_key_is_rotated_old_and_new_links_both_work():
    from datetime import UTC, datetime

    from nurture.adapters.token_keys import rotate_keys
    from nurture.domain.tokens import TokenSigner

    lead_id = a_lead()
    old = click_token(signer(), lead_id, "https://www.example.co.jp/old", "msg-7")
    signer()  # the tracking function's cache now holds the keyring before the rotation
    keys = rotate_keys(LocalResources().signing_key_parameter, datetime.now(UTC))
    assert [key.key_id for key in keys] == ["k1", "k0"]
    new = click_token(TokenSigner(keys), lead_id, "https://www.example.co.jp/new", "msg-8")  # as the sender signs
    for token, url in ((old, "https://www.example.co.jp/old"), (new, "https://www.example.co.jp/new")):
        response = api_request("GET", f"/v1/t/c/{token}", headers={"user-agent": "Mozilla/5.0"})
        assert response is not None and response["statusCode"] == 302 and response["headers"]["Location"] == url
    clicks = [e["message_id"] for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_click"]
    assert sorted(clicks) == ["msg-7", "msg-8"]


def test_numeric_props_are_stored_exactly():
    payload = {"vid": "anon-visitor-6", "type": "custom", "name": "calc", "props": {"price": 12.5, "seats": 40,
                                                                                     "trial": True}}
    assert beacon(payload)["statusCode"] == 204
    (event,) = items_under("VISITOR#anon-visitor-6", "EVT#")
    assert event["props"] == {"price": __import__("decimal").Decimal("12.5"), "seats": 40, "trial": True}


@pytest.mark.parametrize("body", [
    b'{"vid": "anon-visitor-7", "type": "custom", "name": "x", "props": {"n": NaN}}',
    b'{"vid": "anon-visitor-7", "type": "custom", "name": "x", "props": {"n": 1e999}}',
    b'{"vid": "anon-visitor-7", "type": "page_view", "title": "\\udfff"}',
    b'{"vid": "anon-visitor-7", "type": "custom", "name": "x", "props": {"n": 1e300}}',
    b'{"vid": "anon-visitor-7", "type": "custom", "name": "x", "props": {"n": 1e-300}}',
    b'{"vid": "anon-visitor-7", "type": "custom", "name": "x", "props": {"n": 1' + b"0" * 5000 + b"}}",
    b"[" * 50000 + b"]" * 50000,
])
def test_hostile_beacons_get_a_4xx_never_a_5xx(body):
    response = beacon(body)
    assert 400 <= response["statusCode"] < 500, response["body"]
    assert all_items() == []


def test_a_visitor_flooding_beacons_stores_its_minutes_share_and_the_rest_is_dropped_with_a_204(caplog):
    import time_machine

    events = [{"vid": "flooding-visitor", "type": "page_view", "url": f"https://example.jp/{n}"} for n in range(20)]
    with time_machine.travel("2026-12-02T10:00:05+09:00", tick=False):
        answers = [beacon(events)["statusCode"] for _ in range(5)]  # 100 events inside one minute
    assert answers == [204] * 5
    assert len(events_under("VISITOR#flooding-visitor")) == 60  # config/api.yaml: 60 a minute
    assert [record.count for record in caplog.records if record.getMessage() == "hits dropped"] == [20, 20]
    with time_machine.travel("2026-12-02T10:01:05+09:00", tick=False):
        assert beacon(events)["statusCode"] == 204  # the next minute has its own share
    assert len(events_under("VISITOR#flooding-visitor")) == 80


def test_an_identified_visitor_has_the_same_share_a_minute():
    import time_machine

    submit("/v1/forms/contact", {"email": "flood@example.jp", "name": "F", "company": "C", "consent": True,
                                 "vid": "flooding-lead-1"})
    events = [{"vid": "flooding-lead-1", "type": "page_view", "url": f"https://example.jp/{n}"} for n in range(20)]
    with time_machine.travel("2026-12-02T10:00:05+09:00", tick=False):
        assert [beacon(events)["statusCode"] for _ in range(4)] == [204] * 4
    lead_id = lead_id_of("flood@example.jp")
    assert len([e for e in events_under(f"LEAD#{lead_id}") if e["type"] == "page_view"]) == 60


def test_a_rotation_from_a_keyring_someone_rotated_meanwhile_is_refused_not_lost(monkeypatch):
    from datetime import UTC, datetime

    from nurture.adapters.aws import client
    from nurture.adapters.token_keys import RotatedMeanwhile, keyring, rotate_keys

    parameter = LocalResources().signing_key_parameter
    ssm = client("ssm")
    stale = ssm.get_parameter(Name=parameter, WithDecryption=True)  # both operators read this
    first = rotate_keys(parameter, datetime.now(UTC))
    read = ssm.get_parameter
    monkeypatch.setattr(ssm, "get_parameter", lambda **kwargs: stale if kwargs["Name"] == parameter else read(**kwargs))
    with pytest.raises(RotatedMeanwhile):
        rotate_keys(parameter, datetime.now(UTC))
    monkeypatch.undo()
    # The first rotation stands, its new key included: whatever it signed meanwhile keeps verifying.
    assert keyring(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]) == first


def test_a_retried_write_of_our_own_rotation_is_ours_not_someone_elses():
    from datetime import UTC, datetime

    from nurture.adapters.aws import client
    from nurture.adapters.token_keys import keyring, rotate_keys

    parameter = LocalResources().signing_key_parameter
    ssm = client("ssm")
    write = ssm.put_parameter

    def written_twice(**kwargs):  # the SDK's retry of a write whose first answer was lost: two versions
        write(**kwargs)
        return write(**kwargs)

    ssm.put_parameter = written_twice  # type: ignore[method-assign]
    try:
        keys = rotate_keys(parameter, datetime.now(UTC))
    finally:
        del ssm.put_parameter
    assert keyring(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]) == keys
    assert [key.key_id for key in keys] == ["k1", "k0"]


def test_the_keyring_is_a_secure_string_functions_read_decrypted():
    from nurture.adapters.aws import client
    from nurture.adapters.token_keys import keyring

    ssm, name = client("ssm"), LocalResources().signing_key_parameter
    stored = ssm.get_parameter(Name=name)["Parameter"]
    decrypted = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    assert stored["Type"] == "SecureString" and stored["Value"] != decrypted
    assert [key.key_id for key in keyring(decrypted)] == ["k0"] and len(keyring(decrypted)[0].secret) == 32


def test_a_hits_user_agent_is_stored_without_what_cannot_be_seen():
    lead_id = a_lead()
    token = click_token(signer(), lead_id, "https://www.example.co.jp/x", "msg-9")
    api_request("GET", f"/v1/t/c/{token}", headers={"user-agent": "Mozilla/5.0 \u202eevil\u0000" + "x" * 2000})
    (click,) = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_click"]
    assert click["user_agent"].startswith("Mozilla/5.0 evil") and len(click["user_agent"]) == 512


def test_an_ab_variant_counts_each_emails_first_person_click_once_and_no_machine_click():
    lead_id = a_lead()
    # The sender's marker of the email the link is in: where its first click is noted.
    boto3.client("dynamodb").put_item(TableName=LocalResources().table_name, Item={
        "PK": {"S": keys.lead_pk(lead_id)}, "SK": {"S": keys.send_sk("msg-ab")}, "status": {"S": "sent"}})
    token = click_token(signer(), lead_id, "https://www.example.co.jp/seminar", "msg-ab", counter="nl-2027-01#b")
    for agent in ("Mozilla/5.0 (Windows NT 10.0)", "Mozilla/5.0 (Windows NT 10.0)", "Proofpoint URL Defense"):
        response = api_request("GET", f"/v1/t/c/{token}", headers={"user-agent": agent})
        assert response is not None and response["statusCode"] == 302

    counted = items_under(keys.stats_pk("campaign", "nl-2027-01#b"))
    assert sum(int(item.get("clicked_people", 0)) for item in counted) == 1
    assert len([e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_click"]) == 3


def test_an_identified_browsers_beacon_goes_straight_to_its_lead_in_one_transaction():
    from nurture.adapters.aws import client

    submit("/v1/forms/contact", {"email": "known@example.jp", "name": "K", "company": "C", "consent": True,
                                 "vid": "known-browser-1"})
    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb", count)
    try:
        assert beacon({"vid": "known-browser-1", "type": "page_view", "url": "https://example.jp/pricing"})[
            "statusCode"] == 204
    finally:
        events.unregister("before-call.dynamodb", count)
    # An eventually consistent read of the browser's link, then the events on the lead: no anonymous
    # transaction that fails first.
    assert calls == ["GetItem", "TransactWriteItems"]
    lead_id = lead_id_of("known@example.jp")
    assert [e["url"] for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "page_view"] == [
        "https://example.jp/pricing"]
    assert items_under("VISITOR#known-browser-1", "EVT#") == []


def test_a_stale_read_of_a_browser_now_anonymous_again_stores_its_hit_under_the_visitor(monkeypatch):
    from nurture.adapters.lead_store import DynamoLeadStore

    submit("/v1/forms/contact", {"email": "stale@example.jp", "name": "S", "company": "C", "consent": True,
                                 "vid": "stale-browser-1"})
    lead_id = lead_id_of("stale@example.jp")
    boto3.client("dynamodb").delete_item(TableName=LocalResources().table_name,  # as a removal unlinks it
                                         Key={"PK": {"S": "VISITOR#stale-browser-1"}, "SK": {"S": "IDENTITY"}})
    monkeypatch.setattr(DynamoLeadStore, "visitor_lead", lambda self, vid: lead_id)  # the read lags behind
    assert beacon({"vid": "stale-browser-1", "type": "page_view", "url": "https://example.jp/a"})["statusCode"] == 204
    assert [e["url"] for e in items_under("VISITOR#stale-browser-1", "EVT#")] == ["https://example.jp/a"]
    assert [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "page_view"] == []


def test_an_open_is_still_recorded_when_the_clients_own_retries_give_up_once(monkeypatch):
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.errors import StoreUnavailable

    lead_id = a_lead()
    write = DynamoLeadStore.record_lead_activity
    failures = iter([StoreUnavailable("throttled three times")])

    def throttled_once(self, *args, **kwargs):
        for failure in failures:
            raise failure
        return write(self, *args, **kwargs)

    monkeypatch.setattr(DynamoLeadStore, "record_lead_activity", throttled_once)
    pixel = api_request("GET", f"/v1/t/o/{open_token(signer(), lead_id, 'msg-9')}.gif")
    assert pixel is not None and pixel["statusCode"] == 200
    assert [e["message_id"] for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_open"] == ["msg-9"]
