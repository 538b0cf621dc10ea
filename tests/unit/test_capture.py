"""Lead capture's retry and merge logic, against an in-memory store that misbehaves on purpose."""

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nurture.config import load_config
from nurture.domain.activity import RequestContext
from nurture.domain.capture import (
    AlreadySubmitted,
    CaptureResult,
    CaptureSettings,
    LeadLookup,
    SubmissionWrite,
    capture_submission,
)
from nurture.domain.errors import WriteConflict
from nurture.domain.submissions import validate_submission
from tests.conftest import CONFIG_DIR

FORM = load_config(CONFIG_DIR).forms["contact"]
SETTINGS = CaptureSettings(duplicate_window_seconds=600, event_retention_days=30)
REQUEST = RequestContext(received_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), source_ip="198.51.100.7")


@dataclass
class ScriptedStore:
    lookups: list[LeadLookup]
    failures: list[Exception] = field(default_factory=list)
    writes: list[SubmissionWrite] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)
    looks: int = 0

    def look_up(self, email_key, vid):
        self.looks += 1
        return self.lookups.pop(0) if len(self.lookups) > 1 else self.lookups[0]

    def write_submission(self, write):
        if self.failures:
            raise self.failures.pop(0)
        self.writes.append(write)

    def merge_visitor(self, vid, lead_id, limit):
        self.merges.append((vid, lead_id))
        return 0


def submission(**extra):
    fields = {"email": "a@example.jp", "name": "A", "company": "C", "consent": "on", **extra}
    return validate_submission("contact", FORM, fields)


def test_race_on_a_new_address_is_retried_as_an_update():
    store = ScriptedStore(lookups=[LeadLookup(None, None, False), LeadLookup("lead-1", None, False)],
                          failures=[WriteConflict("claimed meanwhile")])
    result = capture_submission(submission(), store, REQUEST, SETTINGS)
    (write,) = store.writes
    assert result == CaptureResult(lead_id="lead-1", created=False, submission_id=write.activity.event_id)
    assert write.new_lead is False and write.counters == {"form_submissions": 1}


def test_a_double_click_racing_on_a_new_address_is_stored_once():
    # Both clicks looked before either wrote; the first click's lead owns the address when the second looks again
    store = ScriptedStore(lookups=[LeadLookup(None, None, False), LeadLookup("lead-A", None, False)],
                          failures=[AlreadySubmitted(CaptureResult("lead-A", True, "first"))])
    result = capture_submission(submission(), store, REQUEST, SETTINGS)
    assert result == CaptureResult("lead-A", True, "first", replayed=True) and store.writes == []


def test_a_repeat_from_a_known_lead_returns_the_first_answer_after_one_look():
    store = ScriptedStore(lookups=[LeadLookup("lead-1", None, False)],
                          failures=[AlreadySubmitted(CaptureResult("lead-1", False, "first"))])
    result = capture_submission(submission(), store, REQUEST, SETTINGS)
    assert result == CaptureResult("lead-1", False, "first", replayed=True) and store.writes == []
    assert store.looks == 1  # the address's owner was known before the write: no second read


def test_a_duplicate_marker_of_an_erased_lead_does_not_swallow_the_submission():
    store = ScriptedStore(lookups=[LeadLookup(None, None, False)],
                          failures=[AlreadySubmitted(CaptureResult("lead-gone", True, "first"))])
    result = capture_submission(submission(), store, REQUEST, SETTINGS)
    (write,) = store.writes
    assert write.stale_duplicate_of == "lead-gone"
    assert result == CaptureResult(write.lead_id, True, write.activity.event_id)


def test_first_identify_merges_the_visitor_once():
    store = ScriptedStore(lookups=[LeadLookup("lead-1", None, False)])
    capture_submission(submission(vid="visitor-0001"), store, REQUEST, SETTINGS)
    assert store.writes[0].claim_visitor == "visitor-0001"
    assert store.merges == [("visitor-0001", "lead-1")]


def test_retry_after_a_half_done_merge_completes_it():
    store = ScriptedStore(lookups=[LeadLookup("lead-1", "lead-1", False)],
                          failures=[AlreadySubmitted(CaptureResult("lead-1", True, "first"))])
    result = capture_submission(submission(vid="visitor-0001"), store, REQUEST, SETTINGS)
    assert result == CaptureResult("lead-1", True, "first", replayed=True)  # the first answer, as a repeat
    assert store.merges == [("visitor-0001", "lead-1")]


def test_visitor_of_another_lead_is_neither_claimed_nor_merged():
    store = ScriptedStore(lookups=[LeadLookup("lead-2", "lead-1", True)])
    capture_submission(submission(vid="visitor-0001"), store, REQUEST, SETTINGS)
    assert store.writes[0].claim_visitor is None and store.merges == []


def test_consent_record_carries_purpose_version_form_and_source():
    store = ScriptedStore(lookups=[LeadLookup(None, None, False)])
    capture_submission(submission(), store, REQUEST, SETTINGS)
    consent = store.writes[0].consent
    assert consent is not None
    assert (consent["granted"], consent["version"], consent["form_id"], consent["source_ip"]) == (
        True, "2026-04", "contact", "198.51.100.7")
    assert consent["purpose"] == FORM.consent.purpose and consent["recorded_at"].startswith("2026-11-23T09:00")


KNOWN = {"name": "見本 花子", "company": "株式会社サンプル", "email": "a@example.jp", "custom": {"message": "前回"},
         "updated_at": "2026-11-20T00:00:00.000000Z"}


def test_an_anonymous_post_for_a_known_address_fills_blanks_and_only_proposes_changes():
    store = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=KNOWN)])
    capture_submission(submission(email="A@example.jp", name="至急 確認", company="株式会社サンプル", title="部長",
                                  message="別件"), store, REQUEST, SETTINGS)
    (write,) = store.writes
    assert write.profile.get("name") is None and write.profile["title"] == "部長"  # a blank filled
    assert "email" not in write.profile and write.custom == {}  # the address's spelling stays the owner's
    assert write.activity.data["proposed"] == {"name": "至急 確認", "custom": {"message": "別件"}}
    assert write.seen_updated_at == KNOWN["updated_at"]  # applied only if no one changed the lead meanwhile
    assert write.consent is not None and write.consent["granted"] is True  # consent is always recorded


def test_the_leads_own_browser_or_a_form_that_may_update_changes_what_is_known():
    own = ScriptedStore(lookups=[LeadLookup("lead-1", "lead-1", True, visitor_verified=True, known=KNOWN)])
    capture_submission(submission(name="見本 はなこ", vid="visitor-0001"), own, REQUEST, SETTINGS)
    assert own.writes[0].profile["name"] == "見本 はなこ" and "proposed" not in own.writes[0].activity.data
    updating = validate_submission("contact", dataclasses.replace(FORM, may_update=True),
                                   {"email": "a@example.jp", "name": "見本 はなこ", "company": "C", "consent": "on"})
    open_form = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=KNOWN)])
    capture_submission(updating, open_form, REQUEST, SETTINGS)
    assert open_form.writes[0].profile["name"] == "見本 はなこ"


def test_another_leads_browser_is_not_trusted_with_this_lead():
    store = ScriptedStore(lookups=[LeadLookup("lead-1", "lead-2", True, known=KNOWN)])
    capture_submission(submission(name="他人", vid="visitor-0002"), store, REQUEST, SETTINGS)
    assert store.writes[0].activity.data["proposed"] == {"name": "他人", "company": "C"}


def test_a_withdrawal_from_anyone_is_honoured():
    from nurture.config.models import ConsentPolicy

    optional = dataclasses.replace(FORM, consent=ConsentPolicy(required=False, purpose="p", version="1"))
    withdrawn = validate_submission("contact", optional, {"email": "a@example.jp", "name": "A", "company": "C",
                                                          "consent": "false"})
    store = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=KNOWN)])
    capture_submission(withdrawn, store, REQUEST, SETTINGS)
    assert store.writes[0].profile["consent"]["granted"] is False


def test_a_form_leaves_last_activity_to_the_scorer_so_it_never_moves_backwards():
    # The scorer moves last_activity_at forward only, under its version lock; a form that set it too could
    # write an older time over a newer one the scorer had just written.
    store = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=KNOWN)])
    capture_submission(submission(), store, REQUEST, SETTINGS)
    assert "last_activity_at" not in store.writes[0].profile


def test_a_browser_tied_to_a_known_address_by_an_anonymous_post_is_not_trusted_later():
    # An attacker posts the victim's address once from a fresh browser: the browser is tied, unverified...
    first = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=KNOWN)])
    capture_submission(submission(vid="attacker-0001"), first, REQUEST, SETTINGS)
    assert first.writes[0].claim_visitor == "attacker-0001" and first.writes[0].claim_verified is False
    # ...so the second post from it, "the lead's own browser" now, still changes nothing the lead has
    second = ScriptedStore(lookups=[LeadLookup("lead-1", "lead-1", True, visitor_verified=False, known=KNOWN)])
    capture_submission(submission(name="攻撃者", vid="attacker-0001"), second, REQUEST, SETTINGS)
    assert "name" not in second.writes[0].profile and second.writes[0].activity.data["proposed"]["name"] == "攻撃者"


def test_the_browser_that_created_the_lead_is_its_own():
    created = ScriptedStore(lookups=[LeadLookup(None, None, False)])
    capture_submission(submission(vid="visitor-0001"), created, REQUEST, SETTINGS)
    assert created.writes[0].claim_verified is True


def test_a_merge_that_races_the_visitors_own_beacon_is_tried_again():
    class RacingMerge(ScriptedStore):
        def merge_visitor(self, vid, lead_id, limit):
            if not self.merges:
                self.merges.append(("raced", lead_id))
                raise WriteConflict("a beacon of the visitor at the same moment")
            return super().merge_visitor(vid, lead_id, limit)

    store = RacingMerge(lookups=[LeadLookup(None, None, False)])
    capture_submission(submission(vid="visitor-0001"), store, REQUEST, SETTINGS)
    assert [vid for vid, _ in store.merges] == ["raced", "visitor-0001"]


def test_a_strangers_yes_does_not_undo_the_persons_own_no_but_is_still_recorded():
    from nurture.config.models import ConsentPolicy

    optional = dataclasses.replace(FORM, consent=ConsentPolicy(required=False, purpose="p", version="1"))
    withdrawn = {**KNOWN, "consent": {"granted": False}}
    store = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=withdrawn)])
    capture_submission(validate_submission("contact", optional, {"email": "a@example.jp", "name": "A", "company": "C",
                                                                 "consent": "yes"}), store, REQUEST, SETTINGS)
    assert "consent" not in store.writes[0].profile and store.writes[0].consent["granted"] is True
    own = ScriptedStore(lookups=[LeadLookup("lead-1", "lead-1", True, visitor_verified=True, known=withdrawn)])
    capture_submission(validate_submission("contact", optional, {"email": "a@example.jp", "name": "A", "company": "C",
                                                                 "consent": "yes", "vid": "visitor-0001"}),
                       own, REQUEST, SETTINGS)
    assert own.writes[0].profile["consent"]["granted"] is True  # the person, from their own browser


def test_a_form_starts_a_new_leads_types_as_it_says_and_leaves_a_known_leads_choices_alone():
    seminar_form = dataclasses.replace(FORM, subscriptions={"seminar": "opted_in", "newsletter": "not_until_asked"})
    fields = {"email": "a@example.jp", "name": "A", "company": "C", "consent": "on"}
    new = ScriptedStore(lookups=[LeadLookup(None, None, False)])
    capture_submission(validate_submission("seminar", seminar_form, fields), new, REQUEST, SETTINGS)
    (write,) = new.writes
    assert {kind: (c["choice"], c["via"], c["form_id"]) for kind, c in write.profile["subscriptions"].items()} == {
        "seminar": ("in", "form", "seminar"), "newsletter": ("not_asked", "form", "seminar")}
    known = ScriptedStore(lookups=[LeadLookup("lead-1", None, False, known=KNOWN)])
    capture_submission(validate_submission("seminar", seminar_form, fields), known, REQUEST, SETTINGS)
    assert "subscriptions" not in known.writes[0].profile
    # The shipped forms start every type at its default: nothing is written.
    plain = ScriptedStore(lookups=[LeadLookup(None, None, False)])
    capture_submission(submission(), plain, REQUEST, SETTINGS)
    assert "subscriptions" not in plain.writes[0].profile
