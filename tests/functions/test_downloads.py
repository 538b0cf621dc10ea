"""The download autoresponder (資料送付) through the real handlers: a whitepaper form's post emails its material at
once in the form's language as a signed, expiring link, its thank-you page links the post's own copy, and following
either records the download on the lead before handing the file over from the private bucket."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import time_machine

from nurture import keys
from nurture.adapters.material_store import S3Materials
from nurture.adapters.token_keys import token_signer
from nurture.config.materials import shipped_materials
from nurture.domain.downloads.tokens import download_token
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import all_items, events_under, lead_id_of, post_form, profile, submit
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import outbox, send_queue

pytestmark = pytest.mark.usefixtures("aws")

RESOURCES = LocalResources()
ASKED = datetime(2026, 6, 9, 1, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Tokyo
ADDRESS = "dl@example.co.jp"
PERSON = {"email": ADDRESS, "name": "山田 太郎", "company": "株式会社サンプル", "consent": "on"}
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
PDF = "whitepaper-lead-nurturing-101.pdf"


@pytest.fixture(autouse=True)
def shipped(aws: None) -> None:
    """The config's assets in the materials bucket, as the deploy (locally: `nurture local`) puts them."""
    materials = S3Materials(RESOURCES.materials_bucket)
    for name, path in shipped_materials(CONFIG_DIR).items():
        materials.put(name, path.read_bytes())


def ask(at: datetime = ASKED, fields: dict[str, str] | None = None) -> dict:
    """A browser's post of the whitepaper form at `at`, scored and its email sent."""
    pipeline = Pipeline()
    with time_machine.travel(at, tick=False):
        response = post_form("/v1/forms/whitepaper", fields or PERSON)
        pipeline.drain()
        send_queue().drain()
    return response


def follow(path: str, at: datetime, user_agent: str = BROWSER) -> dict:
    with time_machine.travel(at, tick=False):
        response = api_request("GET", path, headers={"user-agent": user_agent})
    assert response is not None
    return response


def downloads(lead_id: str) -> list[dict]:
    return [event for event in events_under(f"LEAD#{lead_id}") if event["type"] == "download"]


def scored_rules(lead_id: str) -> list[str]:
    return sorted(entry["rule_id"] for entry in all_items()
                  if entry["PK"] == f"LEAD#{lead_id}" and entry["SK"].startswith("SCORE#"))


def emailed_link(message) -> str:
    return re.search(r"(/v1/d/[A-Za-z0-9_.-]+)", message.get_body(("plain",)).get_content()).group(1)


def test_the_post_is_answered_with_a_thank_you_page_linking_the_file_with_a_link_that_names_no_lead():
    answer = ask()
    assert answer["statusCode"] == 303
    location = answer["headers"]["Location"]
    assert location.startswith("whitepaper/thanks?d=")
    (token,) = parse_qs(urlsplit(location).query)["d"]
    assert lead_id_of(ADDRESS) not in base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    with time_machine.travel(ASKED, tick=False):
        page = api_request("GET", "/v1/forms/whitepaper/thanks", query=f"d={token}")
    assert page is not None and page["statusCode"] == 200
    assert f'<a href="../../d/{token}" download>資料をダウンロードする</a>' in page["body"]
    # No Referer takes the link to the site, no cache keeps it.
    assert page["headers"]["Referrer-Policy"] == "no-referrer" and page["headers"]["Cache-Control"] == "no-store"
    handed = follow(f"/v1/d/{token}", ASKED + timedelta(seconds=5))
    assert handed["statusCode"] == 302
    file_link = urlsplit(handed["headers"]["Location"])
    assert file_link.path.endswith(f"/materials/{PDF}")
    assert parse_qs(file_link.query)["response-content-disposition"] == [f'attachment; filename="{PDF}"']
    assert "X-Amz-Signature" in file_link.query and parse_qs(file_link.query)["X-Amz-Expires"] == ["300"]
    stored = boto3.client("s3").get_object(Bucket=RESOURCES.materials_bucket, Key=f"materials/{PDF}")
    assert stored["Body"].read() == (CONFIG_DIR / "assets" / PDF).read_bytes()
    assert stored["ContentType"] == "application/pdf"
    assert downloads(lead_id_of(ADDRESS)) == []  # whoever posted the form: the post itself is recorded


def test_the_material_is_emailed_at_once_in_the_forms_language_untracked_and_once_an_hour_at_most():
    ask()
    (email,) = outbox()
    assert email["To"] == ADDRESS
    assert email["Subject"] == "【ミライ在庫】資料のご送付：ホワイトペーパー「BtoBリードナーチャリング入門」"
    text = email.get_body(("plain",)).get_content()
    assert "山田 太郎様" in text and "リンクの有効期限は7日間です" in text
    assert "List-Unsubscribe" not in email and "/v1/t/" not in email.as_string()  # nothing but the download tracked
    assert emailed_link(email) in email.get_body(("html",)).get_content()
    lead_id = lead_id_of(ADDRESS)
    sent = [event for event in events_under(f"LEAD#{lead_id}") if event["type"] == "email_sent"]
    assert [(event["material"], event["asset"]) for event in sent] == [("whitepaper", PDF)]
    ask(ASKED + timedelta(minutes=30))  # a second post, or a script posting the address: nothing more
    assert len(outbox()) == 1
    ask(ASKED + timedelta(hours=1))
    assert len(outbox()) == 2
    (counter,) = [item for item in all_items() if item["PK"] == keys.stats_pk("downloads", "whitepaper")]
    assert counter["sent"] == 2


def test_a_scanner_following_the_emailed_link_at_once_scores_nothing_and_a_person_later_does():
    ask()
    link = emailed_link(outbox()[0])
    lead_id = lead_id_of(ADDRESS)
    pipeline = Pipeline()
    assert follow(link, ASKED + timedelta(seconds=2))["statusCode"] == 302  # the scanner still gets the file
    with time_machine.travel(ASKED + timedelta(seconds=2), tick=False):
        pipeline.drain()
    (scanned,) = downloads(lead_id)
    assert (scanned["asset"], scanned["form_id"]) == (PDF, "whitepaper")
    assert (scanned["bot"], scanned["bot_reason"]) == (True, "too_soon_after_send")
    assert "document_download" not in scored_rules(lead_id)
    later = ASKED + timedelta(hours=3)
    assert follow(link, later)["statusCode"] == 302
    with time_machine.travel(later, tick=False):
        pipeline.drain()
    assert len(downloads(lead_id)) == 2 and "document_download" in scored_rules(lead_id)


def test_an_expired_a_forged_or_another_forms_link_hands_nothing_over_and_records_nothing():
    ask()
    link = emailed_link(outbox()[0])
    lead_id = lead_id_of(ADDRESS)
    expired = follow(link, ASKED + timedelta(days=7, minutes=1))
    assert expired["statusCode"] == 410 and "ダウンロードの有効期限が切れています" in expired["body"]
    assert "Location" not in expired["headers"]
    payload, signature = link.removeprefix("/v1/d/").split(".")
    forged = follow(f"/v1/d/{payload}.{signature[::-1]}", ASKED + timedelta(hours=1))
    assert forged["statusCode"] == 400 and "Location" not in forged["headers"]
    assert downloads(lead_id) == []
    # The thank-you page links only a genuine token of its own form.
    signer = token_signer(RESOURCES.signing_key_parameter, 365)
    for token in (download_token(signer, None, "catalogue", PDF, ASKED, 7), f"{payload}.{signature[::-1]}"):
        with time_machine.travel(ASKED, tick=False):
            page = api_request("GET", "/v1/forms/whitepaper/thanks", query=f"d={token}")
        assert page is not None and page["statusCode"] == 200 and "/d/" not in page["body"]


def test_a_material_missing_from_the_bucket_is_a_clear_page_and_no_download():
    ask()
    link = emailed_link(outbox()[0])
    boto3.client("s3").delete_object(Bucket=RESOURCES.materials_bucket, Key=f"materials/{PDF}")
    missing = follow(link, ASKED + timedelta(hours=1))
    assert missing["statusCode"] == 404 and "資料を準備中です" in missing["body"]
    assert downloads(lead_id_of(ADDRESS)) == []


def test_a_lead_waiting_for_its_double_opt_in_gets_no_material_email_but_the_page_links_it():
    pipeline = Pipeline()
    with time_machine.travel(ASKED, tick=False):
        newsletter = post_form("/v1/forms/newsletter", {"email": ADDRESS, "consent": "on"})
        pipeline.drain()
        send_queue().drain()
    assert newsletter["statusCode"] == 303 and len(outbox()) == 1  # its confirmation
    answer = ask(ASKED + timedelta(hours=2))
    assert "d=" in answer["headers"]["Location"]
    subjects = [str(email["Subject"]) for email in outbox()]
    assert not any(subject.startswith("【ミライ在庫】資料のご送付") for subject in subjects)
    assert "double_opt_in" in profile(lead_id_of(ADDRESS))


def test_a_script_posting_json_gets_the_usual_answer_and_the_address_its_email():
    with time_machine.travel(ASKED, tick=False):
        pipeline = Pipeline()
        submit("/v1/forms/whitepaper", {"email": ADDRESS, "name": "山田", "company": "C", "consent": True})
        pipeline.drain()
        send_queue().drain()
    (email,) = outbox()
    assert email["To"] == ADDRESS and emailed_link(email)


def test_a_file_never_pushed_is_handed_over_as_the_deploy_shipped_it(monkeypatch: pytest.MonkeyPatch):
    from nurture.http import services
    from nurture.settings import reload

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="cdk-assets", CreateBucketConfiguration={"LocationConstraint": RESOURCES.region})
    s3.put_object(Bucket="cdk-assets", Key="0123abcd.pdf", Body=b"%PDF shipped")
    s3.delete_object(Bucket=RESOURCES.materials_bucket, Key=f"materials/{PDF}")
    monkeypatch.setenv("SHIPPED_MATERIALS", json.dumps({PDF: "s3://cdk-assets/0123abcd.pdf"}))
    reload()
    services.reset()
    ask()
    handed = follow(emailed_link(outbox()[0]), ASKED + timedelta(hours=1))
    assert handed["statusCode"] == 302
    file_link = urlsplit(handed["headers"]["Location"])
    assert file_link.path.endswith("/cdk-assets/0123abcd.pdf") or file_link.netloc.startswith("cdk-assets.")
    assert parse_qs(file_link.query)["response-content-disposition"] == [f'attachment; filename="{PDF}"']
    assert len(downloads(lead_id_of(ADDRESS))) == 1
