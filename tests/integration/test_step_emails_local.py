"""Step emails on the local system: a form submit leads to an email in the outbox whose links work."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from tests.local_system import RunningSystem, start_system, wait_for

pytestmark = pytest.mark.integration
# The scheduler ticks every second here; a window that is always open makes the test independent of
# the hour it runs at (except for the one minute before midnight in Tokyo, when it waits a minute).


@pytest.fixture(scope="module")
def sending_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = start_system(tmp_path_factory.mktemp("sending"), "--send-any-time", "--tick", "1")
    yield system
    system.stop_and_check_logs()


def test_a_form_submit_leads_to_an_email_in_the_outbox_whose_link_records_the_click(sending_system: RunningSystem):
    lead_id = sending_system.submit("/v1/forms/contact", {
        "email": "outbox@example.co.jp", "name": "<script>alert(1)</script>", "company": "株式会社サンプル",
        "consent": True})

    listed = wait_for(lambda: re.findall(r"href='/_outbox/(\d+)'", sending_system.request("GET", "/_outbox")
                                         .body.decode()))
    page = sending_system.request("GET", f"/_outbox/{listed[0]}").body.decode()
    assert "outbox@example.co.jp" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page

    raw = sending_system.request("GET", f"/_outbox/{listed[0]}.eml")
    assert raw.headers["content-type"] == "message/rfc822"
    email = message_from_bytes(raw.body, policy=default)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["List-Unsubscribe"].startswith(f"<{sending_system.base_url}/v1/unsubscribe/")

    link = re.search(re.escape(sending_system.base_url) + r'(/v1/t/c/[^"]+)"', page)
    assert link is not None, "the email's links point back at the local API"
    assert sending_system.request("GET", link.group(1)).status == 302
    events = wait_for(lambda: [e["type"] for e in sending_system.items(f"LEAD#{lead_id}", "EVT#")
                               if e["type"] == "email_click"], seconds=10)
    assert events == ["email_click"]
    sent = sending_system.items(f"LEAD#{lead_id}", "PROFILE")[0]
    assert sent["emails_sent"] == 1 and sent["sequence"]["step"] == 1
    # SES's Send and Delivery events come back through EventBridge and SQS to the ses_events function.
    # On a busy two-core machine the round trip through SNS, SQS and the consumer's poll took over 20 s once.
    delivered = wait_for(lambda: [e for e in sending_system.items(f"LEAD#{lead_id}", "EVT#")
                                  if e["type"] == "email_delivered"], seconds=60)
    assert delivered[0]["sequence"] == sent["sequence"]["sequence"] and delivered[0]["step"] == "know_how"


def _email_to(system: RunningSystem, address: str):
    number = wait_for(lambda: re.findall(r"href='/_outbox/(\d+)'>[^<]*</a></td><td>" + re.escape(address),
                                         system.request("GET", "/_outbox").body.decode()))[0]
    return message_from_bytes(system.request("GET", f"/_outbox/{number}.eml").body, policy=default)


def test_a_double_opt_in_sign_up_is_confirmed_over_http_by_the_post_of_its_emails_page(sending_system: RunningSystem):
    lead_id = sending_system.submit("/v1/forms/newsletter", {"email": "optin@example.co.jp", "consent": True})
    email = _email_to(sending_system, "optin@example.co.jp")
    text = email.get_body(("plain",)).get_content()
    assert "List-Unsubscribe" not in email and "株式会社ミライ工房" in text  # the sender's legal footer
    path = re.search(re.escape(sending_system.base_url) + r"(/v1/confirm/\S+)", text).group(1)

    page = sending_system.request("GET", path)
    assert page.status == 200 and b'method="post"' in page.body
    assert "double_opt_in" in sending_system.items(f"LEAD#{lead_id}", "PROFILE")[0]
    done = sending_system.request("POST", path, b"", {"content-type": "application/x-www-form-urlencoded"})
    assert done.status == 200 and "ご登録が確定しました" in done.body.decode()
    lead = sending_system.items(f"LEAD#{lead_id}", "PROFILE")[0]
    assert "double_opt_in" not in lead and lead["consent"]["confirmed_at"]


def test_one_click_over_http_leaves_only_the_emails_own_subscription_type(sending_system: RunningSystem):
    lead_id = sending_system.submit("/v1/forms/contact", {"email": "oneclick@ichi.example.jp", "name": "田中",
                                                          "company": "株式会社イチ", "consent": True})
    email = _email_to(sending_system, "oneclick@ichi.example.jp")
    path = email["List-Unsubscribe"].strip("<>").removeprefix(sending_system.base_url)
    done = sending_system.request("POST", path, "List-Unsubscribe=One-Click",
                                  {"content-type": "application/x-www-form-urlencoded"})
    assert done.status == 200
    lead = sending_system.items(f"LEAD#{lead_id}", "PROFILE")[0]
    assert lead["status"] == "active" and lead["subscriptions"]["step_emails"]["choice"] == "out"
    assert lead["subscriptions"]["step_emails"]["via"] == "one_click"


def test_a_reply_from_the_outbox_is_recorded_stops_the_step_emails_and_hands_the_lead_off(
        sending_system: RunningSystem):
    # Each test's lead is of a company of its own: three people of one company sending forms is a hot account
    lead_id = sending_system.submit("/v1/forms/contact", {"email": "replier@example.co.jp", "name": "佐藤",
                                                          "company": "株式会社リプライ", "consent": True})
    email = _email_to(sending_system, "replier@example.co.jp")
    assert email["Reply-To"].endswith("@reply.nurture.example")
    number = re.findall(r"href='/_outbox/(\d+)'>[^<]*</a></td><td>replier@example.co.jp",
                        sending_system.request("GET", "/_outbox").body.decode())[0]
    assert f"action='/_outbox/{number}/reply'" in sending_system.request("GET", f"/_outbox/{number}").body.decode()

    answered = sending_system.request("POST", f"/_outbox/{number}/reply",
                                      urlencode({"text": "<b>来週お打ち合わせできますか</b>"}),
                                      {"content-type": "application/x-www-form-urlencoded"})
    assert answered.status == 200 and "recorded: 1" in answered.body.decode()
    (reply,) = [e for e in sending_system.items(f"LEAD#{lead_id}", "EVT#") if e["type"] == "email_reply"]
    assert reply["excerpt"] == "<b>来週お打ち合わせできますか</b>"  # data, shown escaped wherever it is shown
    lead = wait_for(lambda: [p for p in sending_system.items(f"LEAD#{lead_id}", "PROFILE")
                             if p.get("stage") == "handed_off"], seconds=30)[0]
    assert lead["sequence"]["stopped"] == "handed_off" and "due_sk" not in lead


def test_imported_purchases_make_a_loyal_customer_who_gets_the_cross_sell_email(sending_system: RunningSystem,
                                                                                 tmp_path: Path):
    # Given a lead, and the shop's orders file saved by Excel in Japan: two orders, one the licence
    lead_id = sending_system.submit("/v1/forms/contact", {"email": "buyer@example.co.jp", "name": "購入 太郎",
                                                          "company": "株式会社バイヤー", "consent": True})
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    orders = tmp_path / "orders.csv"
    orders.write_bytes("\r\n".join([
        "注文番号,購入日,メールアドレス,金額,商品名",
        f"X-1,{today - timedelta(days=60):%Y/%m/%d},buyer@example.co.jp,\"30,000円\",研修",
        f"X-2,{today:%Y/%m/%d},buyer@example.co.jp,\"120,000円\",在庫分析ライセンス",
        f"X-3,{today:%Y/%m/%d},nobody@example.co.jp,5000,研修", ""]).encode("cp932"))

    # When it is imported
    imported = sending_system.cli("purchases", "import", str(orders), "--json")

    # Then both orders are recorded and the unknown customer's row is reported
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) | {"encoding": None} == {
        "rows": 3, "encoding": None, "to_record": 3, "repeated_orders": 0, "rejected": [], "recorded": 2,
        "unchanged": 0, "unknown_customers": [4], "failed": []}
    # And the tick makes the lead a trendy customer (流行客: two orders, ¥150,000), in the loyal customers' segment
    # (a tick may review the first order alone: wait for the review of both)
    standing = wait_for(lambda: (customer := sending_system.items(f"LEAD#{lead_id}", "PROFILE")[0].get("customer"))
                        and customer["orders"] == 2 and customer, seconds=30)
    assert (standing["segment"], standing["orders"], standing["total"]) == ("trendy", 2, 150_000)
    preview = sending_system.cli("segment", "preview", "loyal_customers", "--limit", "100", "--json")
    assert lead_id in {row["lead_id"] for row in json.loads(preview.stdout)["sample"]}
    # And the licence enrols the customer in the cross-sell sequence: its email is in the outbox
    training = "在庫分析ライセンスをご購入のお客様へ：導入研修のご案内"
    assert wait_for(lambda: training in _subjects_to(sending_system, "buyer@example.co.jp"), seconds=60)


def _subjects_to(system: RunningSystem, address: str) -> list[str]:
    numbers = re.findall(r"href='/_outbox/(\d+)'>[^<]*</a></td><td>" + re.escape(address),
                         system.request("GET", "/_outbox").body.decode())
    return [str(message_from_bytes(system.request("GET", f"/_outbox/{number}.eml").body, policy=default)["Subject"])
            for number in numbers]
