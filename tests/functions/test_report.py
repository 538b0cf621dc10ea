"""The report reads what the running pipeline records: a step email, a person's open and click, a form."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from nurture.adapters.lead_store import DynamoLeadStore
from nurture.config import load_config
from nurture.domain.clock import parse_iso
from nurture.domain.report import Period, build_report
from nurture.local.functions import api_request
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import post_json, profile
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import RESOURCES, dispatch_and_send, due_at, enrolled, outbox

pytestmark = pytest.mark.usefixtures("aws")
CONFIG = load_config(CONFIG_DIR)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def test_a_step_email_read_clicked_and_followed_by_a_form_is_a_conversion_of_its_step():
    # Given a step email that went out, which the person opened and clicked, then filled in a form
    lead_id = enrolled()
    pipeline = Pipeline()
    sent = due_at(lead_id)
    dispatch_and_send(sent)
    body = outbox()[0].get_body(("html",)).get_content()
    pixel = re.search(r'src="http://127\.0\.0\.1:3000(/v1/t/o/[^"]+\.gif)"', body)
    link = re.search(r'href="http://127\.0\.0\.1:3000(/v1/t/c/[^"]+)"', body)
    assert pixel is not None and link is not None
    with time_machine.travel(sent + timedelta(hours=3), tick=False):
        api_request("GET", pixel.group(1), headers={"user-agent": BROWSER})
        api_request("GET", link.group(1), headers={"user-agent": BROWSER})
    with time_machine.travel(sent + timedelta(days=1), tick=False):
        post_json("/v1/forms/whitepaper", {"email": "first@example.co.jp", "name": "山田", "company": "Acme",
                                           "consent": True})
        pipeline.drain()

    # When the report of that week is built from the table
    zone = ZoneInfo("Asia/Tokyo")
    enrolled_on = parse_iso(profile(lead_id)["created_at"]).astimezone(zone).date()
    period = Period(enrolled_on, sent.astimezone(zone).date() + timedelta(days=6), zone)
    report = build_report(DynamoLeadStore(RESOURCES.table_name).report_items(), period, CONFIG.sequences,
                          CONFIG.scoring, sent + timedelta(days=2))

    # Then the step counts one email, read, clicked and converted by a person
    (row,) = report["steps"]
    assert (row["sequence"], row["step"], row["sent"]) == ("warm_nurture", "know_how", 1)
    assert (row["opened"], row["clicked"], row["converted"], row["opened_bot"]) == (1, 1, 1, 0)
    assert row["click_rate"] == 1.0 and report["leads"]["total"] == 1
    assert sum(week["forms"] for week in report["weekly"]) == 2  # the contact form and the whitepaper
    assert report["leads"]["new_in_period"] == 1
