"""A campaign email to one lead: the sender's last look, then one send at most, recorded once.

The same gate as step emails: the deliverability guard's pause, suppression, consent and status, the send
window and (when the campaign counts) the frequency cap, re-checked right before sending, with the segment
too: a lead that left it since the scan gets nothing. Every outcome, a skip included, closes the lead's
marker for the campaign, so redeliveries and re-evaluations neither send twice nor count twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.config import NurtureConfig
from nurture.config.campaigns import Campaign
from nurture.config.templates import EmailTemplate
from nurture.domain.accounts.standing import with_accounts
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.campaigns.ab import LETTERS, variant_in_test, variant_step
from nurture.domain.campaigns.lifecycle import CampaignMessage, CampaignState, campaign_message_id
from nurture.domain.clock import expiry, iso, parse_iso
from nurture.domain.errors import StoreUnavailable, WriteConflict
from nurture.domain.leads import mail_refusal
from nurture.domain.preferences.choices import subscribed
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.schedule import next_send_time, next_window_opening
from nurture.domain.sending import (
    AlreadyRecorded,
    Attempt,
    Composer,
    Mailer,
    SendDeferred,
    SenderStore,
    SendRecord,
    send_once,
)
from nurture.domain.sequencing import SequenceState, note_sent
from nurture.keys import CAMPAIGN_COUNTERS

HOLD_KEPT_DAYS = 7  # a held message's item outlives its release by this much, then DynamoDB's TTL removes it
SkipReason = Literal["paused", "cancelled", "suppressed", "unsubscribed", "bounced", "complained", "unconfirmed",
                     "no_consent",
                     "opted_out_of_type", "left_segment", "outside_window", "capped"]


class CampaignSenderStore(SenderStore, Protocol):
    def hold(self, message: CampaignMessage, until: str, expires_at: int) -> None:
        """Keep the message until `until` (the lead's own send window): the dispatcher queues it again then."""
        ...

    def account_standings(self, account_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored standing of these accounts, by account key."""
        ...


class Variant(Struct, frozen=True):
    """What an A/B test gives one lead: a variant's subject, in the test or as the winner for the rest."""

    index: int
    in_test: bool

    def data(self) -> dict[str, str]:
        return {"variant": LETTERS[self.index], "ab": "test" if self.in_test else "winner"}


def variant_of(message: CampaignMessage, campaign: Campaign, state: CampaignState | None) -> Variant | None:
    """None without a test; raises SendDeferred for the rest of an audience while no winner is picked (its scan
    starts only after the decision, so only a message from a stale read can ask)."""
    if campaign.ab_test is None:
        return None
    tested = variant_in_test(message.lead_id, message.campaign_id, campaign.ab_test)
    if tested is not None:
        return Variant(tested, in_test=True)
    if state is None or state.decision is None:
        raise SendDeferred("the A/B test's winner is not picked yet")
    return Variant(state.decision.winner, in_test=False)


def campaign_template(campaign: Campaign, templates: dict[str, EmailTemplate],
                      variant: Variant | None = None) -> EmailTemplate:
    """The campaign's template, with its own subject per language where it (or the lead's variant) sets one."""
    template = templates[campaign.template]
    subject = campaign.ab_test.subjects[variant.index] if campaign.ab_test and variant else campaign.subject
    if subject is None:
        return template
    own = {"ja": subject.ja, "en": subject.en}
    return template.with_subjects(lambda language, _: own[language])


def skip_reason(profile: dict[str, Any], suppressed: bool, campaign: Campaign,
                state: CampaignState | None, config: NurtureConfig, evaluator: SegmentEvaluator,
                now: datetime) -> SkipReason | None:
    """Why this lead does not get this campaign now, or None: send."""
    if state is None or state.status == "cancelled":
        return "cancelled"
    if suppressed:
        return "suppressed"
    refusal = mail_refusal(profile)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    if not subscribed(profile, campaign.type, config.subscriptions):
        return "opted_out_of_type"
    if not evaluator.matches(campaign.segment, profile, now):
        return "left_segment"
    window, cap = config.sequences.send_window, config.sequences.frequency_cap
    timezone = profile.get("timezone")
    if next_window_opening(now, window, timezone) > now:
        return "outside_window"
    sequence = SequenceState.from_item(profile.get("sequence"))
    history = [parse_iso(at) for at in sequence.sent_at] if sequence else []
    if campaign.counts_toward_cap and next_send_time(now, window, cap, history, timezone) > now:
        return "capped"
    return None


def deliver_campaign(message: CampaignMessage, state: CampaignState | None, store: CampaignSenderStore,
                     mailer: Mailer, composer: Composer, config: NurtureConfig, evaluator: SegmentEvaluator,
                     now: datetime) -> str:
    """Send one campaign email at most once and record what happened (`config`: the version it was scheduled
    with, `evaluator` its segments). Returns the outcome (sent, failed, skipped_<reason>, held, duplicate,
    gone)."""
    campaign = config.campaigns.campaigns[message.campaign_id]
    message_id = campaign_message_id(message.lead_id, message.campaign_id)
    variant = variant_of(message, campaign, state) if state is not None and state.status != "cancelled" else None
    counted = variant_step(message.campaign_id, variant.index) if variant and variant.in_test else None
    retention = config.api.event_retention_days
    attempt: Attempt | None = None  # once SES has been called, it is never called again
    for retry in range(MAX_ATTEMPTS):
        found = store.lead_for_sending(message.lead_id)
        if found is None:
            return "gone"  # erased since the scan
        profile, suppressed = found
        if profile.get("account") and evaluator.needs_account(campaign.segment):  # a segment on the lead's company
            (profile,) = with_accounts([profile], store.account_standings)
        version = int((profile.get("scoring") or {}).get("version", 0))
        try:
            if attempt is None:
                reason = "paused" if store.sending_paused() else \
                    skip_reason(profile, suppressed, campaign, state, config, evaluator, now)
                if reason == "outside_window" and campaign.send_on is not None:
                    # "On date D in each lead's own send window": kept until the lead's window opens.
                    until = next_window_opening(now, config.sequences.send_window, profile.get("timezone"))
                    store.hold(message, iso(until), expiry(until, HOLD_KEPT_DAYS))
                    return "held"
                if reason is not None:
                    _close_unsent(store, message, message_id, reason, version, now, retention)
                    return f"skipped_{reason}"
                tags = {"lead": message.lead_id, "sequence": CAMPAIGN_COUNTERS, "step": message.campaign_id}
                template = campaign_template(campaign, config.templates, variant)
                attempt = send_once(message.lead_id, profile, message_id,
                                    partial(composer.compose, message.lead_id, profile, template, now=now,
                                            subscription_type=campaign.type, counter=counted),
                                    tags, store, mailer, now, retention)
            store.record_send(_sent(message, profile, campaign, attempt, retention, variant, counted), version)
            return attempt.outcome
        except WriteConflict:
            backoff(retry)  # scoring wrote the lead meanwhile: read it again
        except AlreadyRecorded:
            return "duplicate"
    raise StoreUnavailable("the lead kept changing while its campaign send was recorded")


def _close_unsent(store: SenderStore, message: CampaignMessage, message_id: str, reason: str, version: int,
                  now: datetime, retention_days: int) -> None:
    """A skip is recorded once, like a send: the marker is taken, then closed with the reason's counter."""
    earlier = store.begin_send(message.lead_id, message_id, iso(now), expiry(now, retention_days), "skip")
    if earlier is not None and earlier.get("status") != "abandoned" and earlier.get("attempt") != "skip":
        raise AlreadyRecorded(message_id)
    store.record_send(SendRecord(lead_id=message.lead_id, sequence=CAMPAIGN_COUNTERS, step_id=message.campaign_id,
                                 outcome="skipped", state=None, reschedule=False, message_id=message_id,
                                 counter=f"skipped_{reason}"), version)


def _sent(message: CampaignMessage, profile: dict[str, Any], campaign: Campaign, attempt: Attempt,
          retention_days: int, variant: Variant | None, variant_counter: str | None) -> SendRecord:
    at = parse_iso(attempt.at)
    sequence = SequenceState.from_item(profile.get("sequence"))
    counted = attempt.error is None and campaign.counts_toward_cap and sequence is not None
    activity = attempt.activity(retention_days, {"campaign": message.campaign_id, "template": campaign.template,
                                                 **(variant.data() if variant else {})})
    return SendRecord(lead_id=message.lead_id, sequence=CAMPAIGN_COUNTERS, step_id=message.campaign_id,
                      outcome=attempt.outcome,
                      # Counted in the cap: the send joins the step emails' recent sends (template kept too).
                      state=note_sent(sequence, campaign.template, at) if counted and sequence else None,
                      reschedule=False, activity=activity, message_id=attempt.message_id, error=attempt.error,
                      variant_step=variant_counter, ses_message_id=attempt.ses_message_id)
