"""Step emails on the local system: a form submit leads to an email in the outbox whose links work."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default

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
    # SES's Send and Delivery events come back through SNS and SQS to the ses_events function.
    # On a busy two-core machine the round trip through SNS, SQS and the consumer's poll took over 20 s once.
    delivered = wait_for(lambda: [e for e in sending_system.items(f"LEAD#{lead_id}", "EVT#")
                                  if e["type"] == "email_delivered"], seconds=60)
    assert delivered[0]["sequence"] == sent["sequence"]["sequence"] and delivered[0]["step"] == "know_how"
