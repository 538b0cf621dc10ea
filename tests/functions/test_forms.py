"""The forms function under moto, with API Gateway HTTP API (2.0) events."""

import base64
import json

import pytest

from nurture.local.events import http_api_event, match_route
from nurture.local.functions import api_request, invoke
from tests.functions.helpers import (
    all_items,
    body_json,
    events_under,
    items_under,
    lead_id_of,
    post_form,
    post_json,
    profile,
    submit,
)

pytestmark = pytest.mark.usefixtures("aws")

CONTACT = {"email": "Taro.Yamada@Example.co.jp", "name": "山田 太郎", "company": "株式会社サンプル",
           "consent": True}


def test_new_email_creates_lead_profile_claim_event_and_consent():
    response = post_json("/v1/forms/contact", {**CONTACT, "title": "部長", "utm_source": "expo"})

    assert response["statusCode"] == 202
    result = body_json(response)
    assert result["status"] == "received" and set(result) == {"status", "submission_id"}
    lead_id = lead_id_of(CONTACT["email"])
    lead = profile(lead_id)
    assert lead["email"] == "Taro.Yamada@example.co.jp"
    assert (lead["name"], lead["company"], lead["title"]) == ("山田 太郎", "株式会社サンプル", "部長")
    assert lead["first_touch"]["utm"] == {"utm_source": "expo"}
    (event,) = items_under(f"LEAD#{lead_id}", "EVT#")
    assert (event["type"], event["form_id"], event["form_kind"]) == ("form_submit", "contact", "contact")
    assert event["event_id"] == result["submission_id"]
    (consent,) = items_under(f"LEAD#{lead_id}", "CONSENT#")
    assert consent["granted"] is True and consent["version"] == "2026-04" and consent["purpose"]
    assert consent["source_ip"] == "127.0.0.1" and consent["form_id"] == "contact"
    assert "expires_at" not in consent  # consent records outlive activity retention


def test_a_known_address_gets_the_same_answer_as_a_new_one():
    new = post_json("/v1/forms/contact", CONTACT)
    known = post_json("/v1/forms/whitepaper", {**CONTACT, "title": "部長"})
    assert new["statusCode"] == known["statusCode"] == 202
    assert set(body_json(new)) == set(body_json(known)) == {"status", "submission_id"}
    assert body_json(new)["submission_id"] != body_json(known)["submission_id"]
    assert new["headers"] == known["headers"]


def test_an_anonymous_post_for_a_known_address_fills_blanks_and_proposes_the_rest():
    lead_id = submit("/v1/forms/contact", {**CONTACT, "phone": "03-1234-5678", "title": "課長"})

    response = post_json("/v1/forms/whitepaper", {"email": "taro.yamada@example.co.jp", "name": "至急 確認",
                                                  "company": "株式会社サンプル", "title": "部長", "phone": "",
                                                  "department": "情報システム部", "consent": "yes"})

    assert response["statusCode"] == 202
    lead = profile(lead_id)
    assert (lead["name"], lead["title"]) == ("山田 太郎", "課長")  # what the lead has stays
    assert lead["department"] == "情報システム部"  # a blank filled
    assert lead["phone"] == "03-1234-5678"  # an empty field never erases
    assert lead["email"] == "Taro.Yamada@example.co.jp"  # as its owner wrote it
    assert lead["form_submissions"] == 2
    events = items_under(f"LEAD#{lead_id}", "EVT#")
    assert sorted(e["form_kind"] for e in events) == ["contact", "download"]
    (download,) = [e for e in events if e["form_kind"] == "download"]
    assert download["proposed"] == {"name": "至急 確認", "title": "部長"}  # for sales to judge
    assert len([i for i in all_items() if i["PK"].startswith("EMAIL#")]) == 1


def test_the_leads_own_browser_updates_what_it_knows():
    vid = "own-browser-01"
    lead_id = submit("/v1/forms/contact", {**CONTACT, "title": "課長", "vid": vid})
    submit("/v1/forms/whitepaper", {**CONTACT, "title": "部長", "vid": vid})
    assert profile(lead_id)["title"] == "部長"


def test_duplicate_submission_keeps_one_event_and_returns_the_same_response():
    first = post_json("/v1/forms/contact", CONTACT)
    again = post_json("/v1/forms/contact", {**CONTACT, "email": "taro.yamada@EXAMPLE.co.jp"})

    assert again["statusCode"] == first["statusCode"] == 202
    assert body_json(again) == body_json(first)
    assert len(items_under(f"LEAD#{lead_id_of(CONTACT['email'])}", "EVT#")) == 1


def test_same_idempotency_key_stores_one_event_even_with_other_fields():
    first = post_json("/v1/forms/contact", CONTACT, headers={"Idempotency-Key": "retry-1"})
    retried = post_json("/v1/forms/contact", {**CONTACT, "company": "Changed"}, headers={"Idempotency-Key": "retry-1"})

    assert body_json(retried) == body_json(first)
    lead_id = lead_id_of(CONTACT["email"])
    assert len(items_under(f"LEAD#{lead_id}", "EVT#")) == 1
    assert profile(lead_id)["company"] == "株式会社サンプル"


def test_idempotency_key_reused_by_another_person_does_not_swallow_their_submission():
    first = post_json("/v1/forms/contact", CONTACT, headers={"Idempotency-Key": "constant"})
    other = post_json("/v1/forms/contact", {**CONTACT, "email": "someone.else@example.jp"},
                      headers={"Idempotency-Key": "constant"})
    assert other["statusCode"] == first["statusCode"] == 202
    assert body_json(other) != body_json(first)
    assert lead_id_of("someone.else@example.jp") != lead_id_of(CONTACT["email"])


def test_changed_fields_are_a_new_submission():
    lead_id = submit("/v1/forms/contact", CONTACT)
    post_json("/v1/forms/contact", {**CONTACT, "title": "取締役"})
    assert len(items_under(f"LEAD#{lead_id}", "EVT#")) == 2


def test_browser_post_is_redirected_to_the_thank_you_page():
    response = post_form("/v1/forms/contact", {"email": "a@example.com", "name": "A", "company": "B",
                                               "consent": "on"})
    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "contact/thanks"
    thanks = api_request("GET", "/v1/forms/contact/thanks")
    assert thanks is not None and thanks["statusCode"] == 200 and "送信が完了しました" in thanks["body"]


def test_the_thank_you_page_says_what_fits_the_form_and_links_no_download_without_a_posts_own_link():
    download = api_request("GET", "/v1/forms/whitepaper/thanks", headers={
        "referer": "http://127.0.0.1:3000/demo/whitepaper.html"})
    assert download is not None and download["statusCode"] == 200
    assert "ダウンロード用のリンクを、ご入力のメールアドレスにお送りしました。" in download["body"]
    assert "資料をダウンロードする" not in download["body"]  # the link is a post's own (test_downloads.py)
    assert '<a href="http://127.0.0.1:3000/demo/whitepaper.html">前のページに戻る</a>' in download["body"]
    assert "javascript:" not in download["body"]
    demo = api_request("GET", "/v1/forms/demo/thanks")
    assert demo is not None and "arrange a time" in demo["body"] and "Back to" not in demo["body"]


def test_a_form_posted_from_another_site_links_back_to_its_own_page():
    # With the snippet, a form carries its page; the browser's Referer would say only the site's origin.
    response = post_form("/v1/forms/contact", {"email": "a@example.com", "name": "A", "company": "B", "consent": "on",
                                               "page": "https://www.example.co.jp/contact?from=ad"})
    assert response["statusCode"] == 303
    location = response["headers"]["Location"]
    assert location == "contact/thanks?back=https%3A%2F%2Fwww.example.co.jp%2Fcontact%3Ffrom%3Dad"
    page = api_request("GET", "/v1/forms/contact/thanks", query=location.split("?", 1)[1],
                       headers={"referer": "https://www.example.co.jp/"})
    assert page is not None and '<a href="https://www.example.co.jp/contact?from=ad">' in page["body"]
    crafted = api_request("GET", "/v1/forms/contact/thanks", query="back=https%3A%2F%2Fevil.example%2F")
    assert crafted is not None and "evil" not in crafted["body"]


@pytest.mark.parametrize("referer", ["https://evil.example/phish", "javascript:alert(1)", "//evil.example/",
                                     "http://127.0.0.1:3000@evil.example/"])
def test_a_back_link_goes_only_to_the_senders_own_sites(referer):
    page = api_request("GET", "/v1/forms/contact/thanks", headers={"referer": referer})
    assert page is not None and page["statusCode"] == 200 and "evil" not in page["body"]
    assert "前のページに戻る" not in page["body"]


def test_browser_post_with_errors_gets_a_page_listing_them():
    response = post_form("/v1/forms/contact", {"email": "nope", "name": "A", "company": "B"})
    assert response["statusCode"] == 422
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "メールアドレス" in response["body"] and "正しい形式で入力してください" in response["body"]
    assert "個人情報の取り扱いへの同意" in response["body"] and "入力してください" in response["body"]
    assert all_items() == []


def test_base64_urlencoded_body_as_api_gateway_sends_it():
    body = b"email=hanako%40example.jp&name=%E8%8A%B1%E5%AD%90&company=X&consent=on"
    event = http_api_event("POST", "/v1/forms/contact", headers={"content-type": "application/x-www-form-urlencoded",
                                                                 "accept": "application/json"}, body=body,
                           route=match_route("POST", "/v1/forms/contact")[0], path_parameters={"form_id": "contact"})
    assert event["isBase64Encoded"] is True and event["body"] == base64.b64encode(body).decode()
    response = invoke("forms", event)
    assert response["statusCode"] == 202
    assert profile(lead_id_of("hanako@example.jp"))["name"] == "花子"


def test_multipart_post_is_accepted():
    body = "".join(f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in {
        "email": "m@example.jp", "name": "M", "company": "C", "consent": "on"}.items()).encode() + b"--B--\r\n"
    response = api_request("POST", "/v1/forms/contact", headers={"content-type": "multipart/form-data; boundary=B",
                                                                  "accept": "application/json"}, body=body)
    assert response is not None and response["statusCode"] == 202


def test_filled_honeypot_gets_the_success_response_and_stores_nothing(caplog):
    response = post_json("/v1/forms/contact", {**CONTACT, "website": "http://spam.example"})
    assert response["statusCode"] == 202 and set(body_json(response)) == {"status", "submission_id"}
    assert all_items() == []
    assert [record.getMessage() for record in caplog.records] == ["honeypot filled; dropped"]  # logged, not a metric


def test_visitor_history_is_attached_to_the_lead_exactly_once():
    vid = "visitor-abc123"
    beacon = api_request("POST", "/v1/events", headers={"content-type": "text/plain;charset=UTF-8"},
                         body=json.dumps([{"vid": vid, "type": "page_view", "url": "https://example.jp/pricing"},
                                          {"vid": vid, "type": "download", "url": "https://example.jp/a.pdf"}]).encode())
    assert beacon is not None and beacon["statusCode"] == 204

    lead_id = submit("/v1/forms/contact", {**CONTACT, "vid": vid})
    post_json("/v1/forms/whitepaper", {**CONTACT, "vid": vid})  # the same visitor again

    events = events_under(f"LEAD#{lead_id}")
    assert sorted(e["type"] for e in events) == ["download", "form_submit", "form_submit", "page_view"]
    (identity,) = items_under(f"VISITOR#{vid}", "IDENTITY")
    assert identity["lead_id"] == lead_id and identity["merged"] is True and identity["merged_events"] == 2

    later = api_request("POST", "/v1/events", headers={"content-type": "text/plain"},
                        body=json.dumps({"vid": vid, "type": "page_view", "url": "https://example.jp/case"}).encode())
    assert later is not None and later["statusCode"] == 204
    assert len(events_under(f"LEAD#{lead_id}")) == 5
    assert len(events_under(f"VISITOR#{vid}")) == 2  # nothing new stranded under the visitor


def test_visitor_already_identified_stays_with_its_first_lead():
    vid = "shared-pc-0001"
    first = submit("/v1/forms/contact", {**CONTACT, "vid": vid})
    second = submit("/v1/forms/contact", {**CONTACT, "email": "other@example.jp", "vid": vid})
    assert second != first
    (identity,) = items_under(f"VISITOR#{vid}", "IDENTITY")
    assert identity["lead_id"] == first


BAD_INPUTS = [
    ("unknown form", "/v1/forms/nope", "application/json", json.dumps(CONTACT).encode(), 404, None),
    ("malformed json", "/v1/forms/contact", "application/json", b'{"email": ', 400, None),
    ("missing email", "/v1/forms/contact", "application/json",
     json.dumps({k: v for k, v in CONTACT.items() if k != "email"}).encode(), 422, "email"),
    ("invalid email", "/v1/forms/contact", "application/json", json.dumps({**CONTACT, "email": "x@"}).encode(),
     422, "email"),
    ("missing required field", "/v1/forms/contact", "application/json",
     json.dumps({**CONTACT, "company": ""}).encode(), 422, "company"),
    ("missing consent", "/v1/forms/contact", "application/json",
     json.dumps({k: v for k, v in CONTACT.items() if k != "consent"}).encode(), 422, "consent"),
    ("unsupported type", "/v1/forms/contact", "text/xml", b"<lead/>", 415, None),
    ("a codec that is no charset", "/v1/forms/contact", "application/x-www-form-urlencoded; charset=rot13",
     b"email=a%40example.jp&name=A&company=C&consent=on", 415, None),
    ("body too large", "/v1/forms/contact", "application/json",
     json.dumps({**CONTACT, "message": "x" * 17000}).encode(), 413, None),
    ("oversized field", "/v1/forms/contact", "application/json",
     json.dumps({**CONTACT, "name": "x" * 500}).encode(), 422, "name"),
    ("form id of another shape", "/v1/forms/NOT_A_SLUG!", "application/json", json.dumps(CONTACT).encode(), 404,
     None),
    ("missing required custom field", "/v1/forms/seminar", "application/json",
     json.dumps({**CONTACT, "title": "部長"}).encode(), 422, "session"),
]


@pytest.mark.parametrize(("case", "path", "content_type", "body", "status", "field"), BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gets_a_problem_and_stores_nothing(case, path, content_type, body, status, field):
    response = api_request("POST", path, headers={"content-type": content_type, "accept": "application/json"},
                           body=body)
    assert response is not None
    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Content-Type"] == "application/problem+json"
    problem = body_json(response)
    assert problem["status"] == status and problem["title"] and problem["type"].startswith("https://")
    if field:
        assert field in [error["field"] for error in problem["errors"]]
    assert all_items() == []


def test_browser_post_with_errors_is_sent_to_the_forms_error_url(monkeypatch, tmp_path):
    import shutil

    from nurture.settings import reload
    from tests.conftest import CONFIG_DIR

    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    forms = (tmp_path / "config" / "forms.yaml").read_text(encoding="utf-8")
    forms = forms.replace("  contact:\n    kind: contact\n",
                          "  contact:\n    kind: contact\n    error_url: https://example.jp/contact/error\n"
                          "    success_url: https://example.jp/contact/thanks\n")
    (tmp_path / "config" / "forms.yaml").write_text(forms, encoding="utf-8")
    monkeypatch.setenv("NURTURE_CONFIG_DIR", str(tmp_path / "config"))
    reload()

    failed = post_form("/v1/forms/contact", {"email": "bad", "name": "A", "company": "B", "consent": "on"})
    assert failed["statusCode"] == 303
    assert failed["headers"]["Location"] == "https://example.jp/contact/error?form=contact&errors=email%3Ainvalid"
    done = post_form("/v1/forms/contact", {"email": "ok@example.jp", "name": "A", "company": "B", "consent": "on"})
    assert done["headers"]["Location"] == "https://example.jp/contact/thanks"


HOSTILE_BODIES = [
    ("deeply nested", "application/json", b"[" * 100000 + b"]" * 100000),
    ("lone surrogate", "application/json", b'{"email": "a@example.jp", "name": "\\ud800", "company": "C"}'),
    ("NaN", "application/json", b'{"email": "a@example.jp", "employees": NaN}'),
    ("huge number", "application/json", b'{"email": "a@example.jp", "employees": 1' + b"0" * 5000 + b"}"),
    ("non-latin-1 content type", "multipart/form-data; boundary=\u5883", b"--x--"),
    ("invalid utf-8", "application/x-www-form-urlencoded", b"email=a%40example.jp&name=%FF%FE"),
    ("invalid base64 claim", "multipart/form-data; boundary=", b"--\r\n"),
    ("null byte", "application/json", b'{"email": "a@example.jp\\u0000", "name": "A", "company": "C"}'),
    ("binary", "application/octet-stream", bytes(range(256))),
]


@pytest.mark.parametrize(("case", "content_type", "body"), HOSTILE_BODIES, ids=[c[0] for c in HOSTILE_BODIES])
def test_hostile_bodies_get_a_4xx_never_a_5xx(case, content_type, body):
    response = api_request("POST", "/v1/forms/contact", headers={"content-type": content_type,
                                                                  "accept": "application/json"}, body=body)
    assert response is not None
    assert 400 <= response["statusCode"] < 500, response["body"]
    assert all_items() == []


def test_a_form_takes_only_a_visitors_most_recent_history_along_and_counts_the_rest():
    import boto3

    from nurture.adapters.dynamo import to_item
    from tests.functions.helpers import TABLE_NAME

    vid = "long-history-01"
    dynamodb = boto3.client("dynamodb")
    for n in range(250):  # a long anonymous history, one page view a minute for four hours
        at = f"2026-11-30T{n // 60:02d}:{n % 60:02d}:00.000000Z"
        dynamodb.put_item(TableName=TABLE_NAME, Item=to_item({
            "PK": f"VISITOR#{vid}", "SK": f"EVT#{at}#e{n:03d}", "type": "page_view", "occurred_at": at,
            "event_id": f"e{n:03d}", "url": f"https://example.jp/{n}", "expires_at": 1_900_000_000}))
    lead_id = submit("/v1/forms/contact", {**CONTACT, "vid": vid})
    merged = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "page_view"]
    assert len(merged) == 100 and min(e["event_id"] for e in merged) == "e150"  # the newest hundred
    (identity,) = items_under(f"VISITOR#{vid}", "IDENTITY")
    assert (identity["merged_events"], identity["unmerged_events"]) == (100, 150)


def test_two_anonymous_posts_from_a_fresh_browser_cannot_rewrite_a_known_lead():
    lead_id = submit("/v1/forms/contact", {**CONTACT, "vid": "owners-browser"})
    for _ in range(2):  # the first post ties the attacker's browser to the address; the second tries to use it
        post_json("/v1/forms/whitepaper", {**CONTACT, "name": "至急ご確認ください", "vid": "attackers-browser"})
    assert profile(lead_id)["name"] == "山田 太郎"
    (identity,) = items_under("VISITOR#attackers-browser", "IDENTITY")
    assert identity["lead_id"] == lead_id and identity["verified"] is False  # tied for tracking, never trusted
    submit("/v1/forms/whitepaper", {**CONTACT, "name": "山田 たろう", "vid": "owners-browser"})
    assert profile(lead_id)["name"] == "山田 たろう"  # the browser that created the lead is its own
