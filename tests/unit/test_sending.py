"""The sender's last look at a lead before an email goes out, and the message it sends."""

from datetime import datetime
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace

from nurture.config import load_config
from nurture.domain.dispatch import StepMessage
from nurture.domain.emails import Links, render_email
from nurture.domain.sending import Composer, decide, to_mime
from nurture.domain.sequencing import LeadFacts, update_enrollment
from nurture.domain.tokens import TokenSigner
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
SETTINGS = (CONFIG.sequences, CONFIG.subscriptions)  # what decide reads of the config
OPTED_OUT = {"choice": "out", "at": "2026-11-20T01:00:00.000000Z", "via": "preference_page"}
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
STATE = update_enrollment(None, LeadFacts(rank="B", stage="nurturing", status="active"), CONFIG.sequences, NOW)
PROFILE = {"lead_id": "l1", "rank": "B", "stage": "nurturing", "status": "active", "email": "a@example.jp",
           "consent": {"granted": True}, "sequence": STATE.to_item() if STATE else None}
MESSAGE = StepMessage.of(lead_id="l1", sequence="warm_nurture", step=0, due="2026-11-30T01:00:00.000000Z",
                      claimed_at="2026-11-30T01:00:00.000000Z")


def test_a_due_step_is_sent_from_the_state_it_is_due_in():
    decision = decide(PROFILE, False, MESSAGE, *SETTINGS, NOW)
    assert decision.action == "send" and decision.step is not None and decision.step.template == "know_how"
    assert decision.state == STATE


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 30, 18, 0, 1, tzinfo=ZoneInfo("Asia/Tokyo")),  # just after the window closed
    datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")),  # a Saturday
    datetime(2026, 12, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")),  # the year-end closure
])
def test_a_message_that_waited_past_the_window_waits_for_the_next_opening(moment):
    decision = decide(PROFILE, False, MESSAGE, *SETTINGS, moment)
    assert decision.action == "wait" and decision.state is not None and decision.state.next_send_at is not None
    opening = datetime.fromisoformat(decision.state.next_send_at).astimezone(ZoneInfo("Asia/Tokyo"))
    assert opening > moment and opening.hour == 9 and opening.weekday() < 5


def test_a_message_over_the_cap_waits_until_the_oldest_send_ages_out():
    assert STATE is not None
    capped = replace(STATE, sent_at=("2026-11-27T01:00:00.000000Z", "2026-11-28T01:00:00.000000Z"))
    decision = decide({**PROFILE, "sequence": capped.to_item()}, False, MESSAGE, *SETTINGS, NOW)
    assert decision.action == "wait" and decision.state is not None
    assert decision.state.next_send_at is not None and decision.state.next_send_at.startswith("2026-12-04T01:00")


def test_a_sequence_gone_from_the_config_stops_instead_of_coming_round_again():
    decision = decide({**PROFILE, "sequence": {**PROFILE["sequence"], "sequence": "retired"}}, False,
                      MESSAGE.replaced(sequence="retired"), *SETTINGS, NOW)
    assert (decision.action, decision.reason) == ("stop", "removed_from_config")


@pytest.mark.parametrize(("change", "suppressed", "reason"), [
    ({"status": "unsubscribed"}, False, "unsubscribed"),
    ({}, True, "suppressed"),
    ({"consent": {"granted": False}}, False, "no_consent"),
    ({"consent": None}, False, "no_consent"),
    ({"stage": "handed_off"}, False, "handed_off"),
    ({"subscriptions": {"step_emails": OPTED_OUT}}, False, "opted_out_of_type"),
])
def test_nothing_goes_to_a_lead_that_must_not_get_it(change, suppressed, reason):
    decision = decide({**PROFILE, **change}, suppressed, MESSAGE, *SETTINGS, NOW)
    assert (decision.action, decision.reason) == ("stop", reason)
    assert decision.state is not None and decision.state.stopped == reason and decision.state.next_send_at is None


def test_a_lead_that_opted_out_of_other_types_still_gets_its_step_emails():
    others = {kind: OPTED_OUT for kind in CONFIG.subscriptions.types if kind != "step_emails"}
    assert decide({**PROFILE, "subscriptions": others}, False, MESSAGE, *SETTINGS, NOW).action == "send"
    opted_in = {"step_emails": {**OPTED_OUT, "choice": "in"}}
    assert decide({**PROFILE, "subscriptions": opted_in}, False, MESSAGE, *SETTINGS, NOW).action == "send"


def test_a_message_for_another_step_is_dropped():
    assert decide(PROFILE, False, MESSAGE.replaced(step=3), *SETTINGS, NOW).action == "drop"
    assert decide({**PROFILE, "sequence": None}, False, MESSAGE, *SETTINGS, NOW).action == "drop"


def test_a_step_whose_condition_fails_is_skipped():
    assert STATE is not None
    at_seminar = replace(STATE, step=2, sent_templates=("know_how", "case_study"))
    decision = decide({**PROFILE, "sequence": at_seminar.to_item()}, False, MESSAGE.replaced(step=2),
                      *SETTINGS, NOW)
    assert decision.action == "skip" and decision.state is not None and decision.state.step == 3


def test_the_mime_message_carries_both_parts_and_one_click_headers():
    email = render_email(CONFIG.templates["know_how"], "ja", {"name": "山田"},
                         Links("https://api.example.com", TokenSigner(b"k" * 32), "l1", "m1"))
    raw = to_mime(email, "Nurture <news@example.co.jp>", "a@example.jp", NOW, "example.co.jp")
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Unsubscribe"].startswith("<https://api.example.com/v1/unsubscribe/")
    assert parsed["Subject"] == email.subject
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert "山田" in parsed.get_body(("html",)).get_content()


@pytest.mark.parametrize("reply_domain", ["reply.example.co.jp", ""])
def test_a_composed_email_replies_to_an_address_naming_its_lead_and_message_only_where_replies_are_received(
        reply_domain: str):
    signer = TokenSigner(b"k" * 32)
    composer = Composer.for_config(CONFIG, signer, "https://api.example.com", "news@example.co.jp", reply_domain)
    lead_id, message_id = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba98"
    parsed = message_from_bytes(composer.compose(lead_id, {"email": "a@example.jp", "name": "山田"}, "know_how",
                                                 message_id, NOW, subscription_type="step_emails"), policy=default)
    if not reply_domain:  # replies go to the From address, as before receiving was set up
        assert parsed["Reply-To"] is None
        return
    assert parsed["Reply-To"].endswith("@reply.example.co.jp")
    assert signer.read_reply_address(parsed["Reply-To"]) == (lead_id, message_id[:16])


def test_an_email_the_lead_already_received_is_skipped_not_resent():
    assert STATE is not None
    received = replace(STATE, sent_templates=("know_how",))
    decision = decide({**PROFILE, "sequence": received.to_item()}, False, MESSAGE, *SETTINGS, NOW)
    assert decision.action == "skip" and decision.state is not None and decision.state.step == 1


@pytest.mark.parametrize(("change", "suppressed", "reason"), [
    ({}, True, "suppressed"), ({"consent": {"granted": False}}, False, "no_consent"),
    ({"status": "unsubscribed"}, False, "unsubscribed")])
def test_a_follow_up_check_on_a_lead_that_may_get_no_mail_stops_instead_of_re_engaging(change, suppressed, reason):
    # Given a finished sequence whose dormancy check is due, for a lead silent for 120 days
    assert STATE is not None
    finished = replace(STATE, step=4, stopped="completed", next_send_at="2027-03-30T01:00:00.000000Z")
    dormant = {**PROFILE, "sequence": finished.to_item(), "last_activity_at": "2026-11-30T01:00:00.000000Z", **change}
    check = MESSAGE.replaced(step=4)
    later = datetime(2027, 3, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert decide({**PROFILE, "sequence": finished.to_item(), "last_activity_at": "2026-11-30T01:00:00.000000Z"},
                  False, check, *SETTINGS, later).action == "follow_up"  # it would re-engage it
    # When the lead is suppressed, without consent or unsubscribed, the check stops instead
    decision = decide(dormant, suppressed, check, *SETTINGS, later)
    assert (decision.action, decision.reason) == ("stop", reason)
    assert decision.state is not None and decision.state.next_send_at is None
