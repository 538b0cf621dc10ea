"""Dormant leads: re-engagement after the dormancy period, the sunset policy after it, and the way back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from nurture.domain.clock import parse_iso
from nurture.local.functions import api_request
from tests.functions.helpers import body_json, post_json, profile
from tests.functions.pipeline import Pipeline
from tests.functions.step_emails import dispatch_and_send, due_at, enrolled, outbox

pytestmark = pytest.mark.usefixtures("aws")
# A Monday in June, when Japan has no holidays: the sequence's three weeks must not meet a quiet period (年末年始)
# that the day the suite runs would otherwise bring.
JUNE = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture(autouse=True)
def june() -> Iterator[None]:
    with time_machine.travel(JUNE, tick=True):
        yield


def run_due(lead_id: str, pipeline: Pipeline) -> datetime:
    """The dispatcher and sender at the lead's next due moment, then scoring of what they recorded."""
    moment = due_at(lead_id)
    dispatch_and_send(moment)
    with time_machine.travel(moment, tick=False):
        pipeline.drain()
    return moment


def sequence_of(lead_id: str) -> dict:
    state: dict = profile(lead_id)["sequence"]
    return state


def status_of(lead_id: str) -> str:
    response = api_request("GET", f"/v1/leads/{lead_id}")
    assert response is not None and response["statusCode"] == 200
    return str(body_json(response)["status"])


def test_a_lead_silent_after_its_sequence_is_reengaged_then_sunset_until_it_returns():
    # Given a lead whose whole sequence has gone out, and no one there ever reacted (its engagement
    # decays meanwhile, but stays within warm's margin until warm nurture's last email, three weeks on)
    lead_id = enrolled()
    pipeline = Pipeline()
    for _ in range(6):
        if sequence_of(lead_id).get("stopped"):
            break
        run_due(lead_id, pipeline)
    finished = sequence_of(lead_id)
    assert finished["sequence"] == "warm_nurture" and finished["stopped"] == "completed"
    sent_by_nurture = len(outbox())
    last_activity = parse_iso(profile(lead_id)["last_activity_at"])  # the form
    assert due_at(lead_id) == last_activity + timedelta(days=90)

    # When the dormancy check comes due, the lead enters re-engagement and gets its two emails
    run_due(lead_id, pipeline)
    assert sequence_of(lead_id)["sequence"] == "reengagement"
    run_due(lead_id, pipeline)
    last_email = run_due(lead_id, pipeline)
    subjects = [str(email["Subject"]) for email in outbox()[sent_by_nurture:]]
    assert len(subjects) == 2
    assert "今後も情報をお届けしてよろしいでしょうか" in subjects[0] and "最後のご案内" in subjects[1]

    # Then, silent through it, the sunset policy stops its mail and the lead is reported dormant
    assert due_at(lead_id) == last_email + timedelta(days=30)
    sunset_at = run_due(lead_id, pipeline)
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] == "sunset" and "due_sk" not in lead
    assert status_of(lead_id) == "dormant"
    dispatch_and_send(sunset_at + timedelta(days=365))
    assert len(outbox()) == sent_by_nurture + 2  # nothing more, ever, while it stays silent

    # And when the lead shows up again (a form a year later) it is nurtured again
    back = sunset_at + timedelta(days=400)
    with time_machine.travel(back, tick=False):
        post_json("/v1/forms/contact", {"email": "first@example.co.jp", "name": "山田", "company": "Acme",
                                        "consent": True})
        pipeline.drain()
    assert status_of(lead_id) == "active"
    again = sequence_of(lead_id)
    assert again["sequence"] == "warm_nurture" and again["stopped"] is None
    assert parse_iso(again["next_send_at"]) > back


def test_a_person_opening_an_email_counts_as_activity():
    lead_id = enrolled()
    pipeline = Pipeline()
    sent = run_due(lead_id, pipeline)
    before = profile(lead_id)["last_activity_at"]
    (email,) = outbox()
    pixel = re.search(r'src="http://127\.0\.0\.1:3000(/v1/t/o/[^"]+)\.gif"', email.get_body(("html",)).get_content())
    assert pixel is not None
    opened = sent + timedelta(days=20)
    with time_machine.travel(opened, tick=False):
        api_request("GET", pixel.group(1) + ".gif", headers={"user-agent": BROWSER})
        pipeline.drain()
    after = profile(lead_id)["last_activity_at"]
    assert after != before and parse_iso(after) == opened
