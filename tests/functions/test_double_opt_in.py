"""Double opt-in through the real handlers: a newsletter sign-up waits for its person, gets one confirmation email
(again at most once an hour), is confirmed only by the page's POST, and is removed unconfirmed after its days."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from nurture import keys
from nurture.adapters.token_keys import token_signer
from nurture.domain.tokens import CONFIRM, UNSUBSCRIBE, TokenSigner
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from tests.functions.helpers import all_items, items_under, profile, submit
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import dispatch, outbox, send_queue

pytestmark = pytest.mark.usefixtures("aws")

SIGNED_UP = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
ADDRESS = "signup@example.co.jp"


def sign_up(at: datetime = SIGNED_UP, name: str = "佐藤") -> str:
    """A newsletter post at `at`, its stream record scored and its confirmation sent."""
    pipeline = Pipeline()
    with time_machine.travel(at, tick=False):
        lead_id = submit("/v1/forms/newsletter", {"email": ADDRESS, "name": name, "consent": True})
        pipeline.drain()
        send_queue().drain()
    return lead_id


def confirm_links() -> list[str]:
    return [re.search(r"(/v1/confirm/[A-Za-z0-9_.-]+)", message.get_body(("plain",)).get_content()).group(1)
            for message in outbox()]


def open_link(method: str, path: str, at: datetime = SIGNED_UP) -> dict:
    with time_machine.travel(at, tick=False):
        response = api_request(method, path, headers={"content-type": "application/x-www-form-urlencoded"},
                               body=b"" if method == "POST" else None)
    assert response is not None
    return response


def counters() -> dict[str, int]:
    found: dict[str, int] = {}
    for item in all_items():
        if item["PK"] == keys.stats_pk("double_opt_in", "newsletter"):
            for name in ("sent", "confirmed", "removed"):
                found[name] = found.get(name, 0) + int(item.get(name, 0))
    return {name: count for name, count in found.items() if count}


def test_a_sign_up_is_stored_and_gets_nothing_but_one_confirmation_email():
    lead_id = sign_up()
    lead = profile(lead_id)
    assert lead["double_opt_in"]["form_id"] == "newsletter" and lead["due_pk"] == keys.UNCONFIRMED_DUE
    assert "sequence" not in lead and lead["consent"]["granted"] is True and "confirmed_at" not in lead["consent"]
    (email,) = outbox()
    assert email["Subject"] == "【ミライ在庫】メールマガジン登録のご確認" and email["To"] == ADDRESS
    assert "List-Unsubscribe" not in email and "/v1/t/" not in email.as_string()  # nothing tracked
    assert "7日後に削除されます" in email.get_body(("plain",)).get_content()
    assert counters() == {"sent": 1}
    # Not mailed and not nurtured until confirmed: the sales view says so.
    view = api_request("GET", f"/v1/leads/{lead_id}", headers={"content-type": "application/json"})
    assert view is not None and json.loads(view["body"])["status"] == "unconfirmed"


def test_the_link_opens_a_page_whose_get_confirms_nothing_and_whose_post_confirms_once():
    lead_id = sign_up()
    (link,) = confirm_links()
    page = open_link("GET", link)
    assert page["statusCode"] == 200 and 'method="post"' in page["body"] and "登録を確定する" in page["body"]
    assert "double_opt_in" in profile(lead_id)  # a scanner following the link confirms nothing
    moment = SIGNED_UP + timedelta(minutes=5)
    pipeline = Pipeline()  # reads what the confirmation writes
    done = open_link("POST", link, moment)
    assert done["statusCode"] == 200 and "ご登録が確定しました" in done["body"]
    lead = profile(lead_id)
    assert "double_opt_in" not in lead and "due_pk" not in lead
    assert lead["consent"]["confirmed_at"] == "2026-12-03T01:05:00.000000Z"
    (record,) = items_under(f"LEAD#{lead_id}", "CONSENT#")
    assert record["confirmed_at"] == lead["consent"]["confirmed_at"] and record["confirmed_ip"]
    again = open_link("POST", link, moment + timedelta(minutes=1))
    assert again["statusCode"] == 200 and "ご登録が確定しました" in again["body"]
    confirmations = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "subscription_confirmed"]
    assert len(confirmations) == 1 and counters() == {"sent": 1, "confirmed": 1}
    with time_machine.travel(moment, tick=False):
        pipeline.drain()  # the confirmation is new activity: scoring enrolls the lead from it
    assert profile(lead_id)["sequence"]["sequence"] and profile(lead_id)["due_pk"].startswith("DUE#")


def test_a_new_post_sends_the_email_again_at_most_once_an_hour():
    lead_id = sign_up()
    first_removal = profile(lead_id)["double_opt_in"]["remove_at"]
    sign_up(SIGNED_UP + timedelta(minutes=30), name="佐藤 花子")
    assert len(outbox()) == 1
    sign_up(SIGNED_UP + timedelta(minutes=61), name="佐藤 花子")
    assert len(outbox()) == 2 and counters() == {"sent": 2}
    assert profile(lead_id)["double_opt_in"]["remove_at"] > first_removal  # its days count from the latest ask
    first, _latest = confirm_links()
    assert open_link("POST", first, SIGNED_UP + timedelta(hours=2))["statusCode"] == 200  # the first link confirms too
    assert "double_opt_in" not in profile(lead_id)


def test_a_lead_never_confirmed_is_removed_after_its_days_leaving_only_a_count():
    lead_id = sign_up()
    (link,) = confirm_links()
    dispatch(SIGNED_UP + timedelta(days=6, hours=23))
    assert "double_opt_in" in profile(lead_id)
    dispatch(SIGNED_UP + timedelta(days=7, minutes=1))
    # Only the post's duplicate guard may still name it: TTL removes it (ten minutes after the post, long past).
    left = [item for item in all_items() if (lead_id in str(item) or item["PK"].startswith(("EMAIL#", "SUPPRESS#")))
            and not item["PK"].startswith("DEDUPE#")]
    assert left == [] and counters() == {"sent": 1, "removed": 1}
    gone = open_link("POST", link, SIGNED_UP + timedelta(days=7, minutes=2))
    assert gone["statusCode"] == 410 and "有効期限" in gone["body"]
    # The address was never suppressed: its owner can sign up again and gets a new confirmation.
    again = sign_up(SIGNED_UP + timedelta(days=8))
    assert again != lead_id and len(outbox()) == 2


def test_forged_wrong_purpose_and_expired_links_answer_a_clear_page_and_change_nothing():
    lead_id = sign_up()
    keyring = token_signer(LocalResources().signing_key_parameter)
    forged = TokenSigner(b"f" * 32).sign(CONFIRM, {"l": lead_id}, expires_at=SIGNED_UP + timedelta(days=7))
    unsubscribe_link = keyring.sign(UNSUBSCRIBE, {"l": lead_id, "m": "m"})
    expired = keyring.sign(CONFIRM, {"l": lead_id}, expires_at=SIGNED_UP - timedelta(minutes=1))
    for token, status in ((forged, 400), (unsubscribe_link, 400), (expired, 410), ("not-a-token", 400)):
        for method in ("GET", "POST"):
            assert open_link(method, f"/v1/confirm/{token}")["statusCode"] == status
    assert "double_opt_in" in profile(lead_id) and counters() == {"sent": 1}
