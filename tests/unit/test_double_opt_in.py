"""Double opt-in decisions: when a post asks for the confirmation, what an unconfirmed lead may get (nothing), and
the confirmation token's purpose kept apart from every other link's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nurture.config import load_config
from nurture.domain.activity import RequestContext
from nurture.domain.capture import CaptureSettings, LeadLookup, capture_submission
from nurture.domain.errors import InvalidToken
from nurture.domain.leads import mail_refusal, status_of
from nurture.domain.preferences.double_opt_in import REQUESTED, request_for, requested_confirmation
from nurture.domain.scoring import ScoredEvent, ScoreState, score_lead
from nurture.domain.sequencing import lead_facts, update_enrollment
from nurture.domain.submissions import validate_submission
from nurture.domain.tokens import CLICK, CONFIRM, OPEN, UNSUBSCRIBE, ExpiredToken, TokenSigner
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
WAITING = {"form_id": "newsletter", "requested_at": "2026-12-03T01:00:00.000000Z",
           "remove_at": "2026-12-10T01:00:00.000000Z"}
PENDING = {"email_key": "k", "status": "active", "stage": "nurturing", "consent": {"granted": True},
           "double_opt_in": WAITING}


def test_a_double_opt_in_forms_new_lead_asks_and_a_waiting_lead_asks_again_only_after_an_hour():
    assert request_for("newsletter", None, NOW, 7) == WAITING
    assert request_for("contact", PENDING, NOW + timedelta(minutes=59), 7) is None
    again = request_for("contact", PENDING, NOW + timedelta(hours=1), 7)
    assert again == {"form_id": "newsletter", "requested_at": "2026-12-03T02:00:00.000000Z",
                     "remove_at": "2026-12-10T02:00:00.000000Z"}  # the form that asked first; days from now
    assert request_for("newsletter", {"email_key": "k"}, NOW + timedelta(days=1), 7) is None  # already confirmed


class OneWrite:
    def __init__(self, lookup: LeadLookup):
        self.lookup, self.writes = lookup, []

    def look_up(self, email_key, vid):
        return self.lookup

    def write_submission(self, write):
        self.writes.append(write)

    def merge_visitor(self, vid, lead_id, limit):
        return 0


def captured(form_id: str, lookup: LeadLookup):
    store = OneWrite(lookup)
    submission = validate_submission(form_id, CONFIG.forms[form_id], {"email": "a@example.jp", "name": "A",
                                                                      "company": "C", "consent": "on"})
    capture_submission(submission, store, RequestContext(NOW), CaptureSettings(600, 30, unconfirmed_kept_days=7))
    (write,) = store.writes
    return write


def test_capture_marks_the_new_lead_waiting_and_its_post_as_asking_for_the_email():
    write = captured("newsletter", LeadLookup(None, None, False))
    assert write.profile["double_opt_in"] == WAITING and write.activity.data[REQUESTED] is True
    assert requested_confirmation("lead-1", write.activity.attributes()).requested_at == WAITING["requested_at"]
    plain = captured("contact", LeadLookup(None, None, False))
    assert "double_opt_in" not in plain.profile and REQUESTED not in plain.activity.data
    known = captured("newsletter", LeadLookup("lead-1", None, False, known={"email": "a@example.jp"}))
    assert "double_opt_in" not in known.profile  # a lead Nurture already mails is not asked again


def test_an_unconfirmed_lead_gets_no_email_no_sequence_and_no_handoff():
    assert mail_refusal(PENDING) == "unconfirmed" and status_of(PENDING) == "unconfirmed"
    facts = lead_facts(PENDING, "A", "nurturing", NOW)
    assert update_enrollment(None, facts, CONFIG.sequences, NOW) is None
    confirmed = {key: value for key, value in PENDING.items() if key != "double_opt_in"}
    assert update_enrollment(None, lead_facts(confirmed, "A", "nurturing", NOW), CONFIG.sequences, NOW) is not None
    demo = [ScoredEvent("e1", NOW, 1, {"type": "form_submit", "form_kind": "demo_request"})]

    def handoff(profile):
        return score_lead("lead-1", profile, "nurturing", ScoreState(), demo, CONFIG.scoring, NOW,
                          click_burst_seconds=1.0, url_groups=CONFIG.segments.url_groups).handoff

    assert handoff(PENDING) is None and handoff(confirmed) is not None


def test_a_confirmation_token_is_accepted_for_nothing_else_and_nothing_else_for_it():
    signer = TokenSigner(b"k" * 32)
    confirm = signer.sign(CONFIRM, {"l": "lead-1"}, expires_at=NOW + timedelta(days=7))
    assert signer.verify(confirm, CONFIRM, NOW)["l"] == "lead-1"
    for kind in (UNSUBSCRIBE, OPEN, CLICK):
        with pytest.raises(InvalidToken, match="not meant for this use"):
            signer.verify(confirm, kind, NOW)
        with pytest.raises(InvalidToken, match="not meant for this use"):
            signer.verify(signer.sign(kind, {"l": "lead-1", "m": "m", "u": "https://example.jp/"}), CONFIRM, NOW)
    with pytest.raises(ExpiredToken):
        signer.verify(confirm, CONFIRM, NOW + timedelta(days=7, seconds=1))

