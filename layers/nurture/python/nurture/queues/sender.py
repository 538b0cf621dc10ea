"""The sender's SQS consumer: each message is one due step email (from the dispatcher), one campaign email
(from the audience workers), or one email a post asked for (from the scorer's stream: a double opt-in
confirmation, a download form's material, a seminar registration's, made first; a seminar's reminders,
follow-ups and waitlist promotions), sent at most once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from nurture.config import NurtureConfig
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.campaigns.lifecycle import CampaignMessage, CampaignRefused, CampaignState
from nurture.domain.campaigns.preview import CampaignTestMessage, proof_emails
from nurture.domain.campaigns.sending import CampaignSenderStore, deliver_campaign
from nurture.domain.dispatch import StepMessage
from nurture.domain.downloads.material_email import deliver_material
from nurture.domain.downloads.requests import MaterialMessage
from nurture.domain.events.follow_up import deliver_follow_up
from nurture.domain.events.promotion import PromotionStore, deliver_promotion
from nurture.domain.events.registration import deliver_registration
from nurture.domain.events.reminder_email import deliver_reminder
from nurture.domain.events.requests import FollowUpMessage, PromotionMessage, RegistrationMessage, ReminderMessage
from nurture.domain.messages import LeadMessage
from nurture.domain.preferences.confirmation_email import deliver_confirmation
from nurture.domain.preferences.double_opt_in import ConfirmationMessage
from nurture.domain.sending import Composer, Mailer, deliver
from nurture.observability import logger, metrics
from nurture.queues.batch import QueueMessage, partial_response


class QueueSenderStore(CampaignSenderStore, PromotionStore, Protocol):
    """What the sender's messages need of the table: leads, sends, campaigns' states and registrations."""


def handle_batch(event: dict[str, Any], store: QueueSenderStore, mailer: Mailer,
                 composer: Callable[[NurtureConfig], Composer], config: NurtureConfig, clock: Callable[[], datetime],
                 campaign_state: Callable[[str], CampaignState | None],
                 config_of: Callable[[int], NurtureConfig]) -> dict[str, Any]:
    states: dict[str, CampaignState | None] = {}  # read once a batch: a cancel stops the next batch on
    # Once a batch, not per message: the rendering setup of the invocation's version (None) and of each version a
    # campaign was scheduled with, and those versions' compiled segments.
    composers: dict[int | None, Composer] = {}
    evaluators: dict[int, SegmentEvaluator] = {}

    def composer_for(version: int | None, its_config: NurtureConfig) -> Composer:
        if version not in composers:
            composers[version] = composer(its_config)
        return composers[version]

    retention, opt_in, downloads = config.api.event_retention_days, config.double_opt_in, config.downloads
    # Emails a person asked for (from the scorer's stream, or the dispatcher's reminders), by their message's kind:
    # each delivered once, whatever the pause, with the invocation's config.
    asked_for: dict[str, tuple[type[LeadMessage], Callable[[Any], str]]] = {
        "confirmation": (ConfirmationMessage, lambda m: deliver_confirmation(
            m, store, mailer, composer_for(None, config), config.templates, opt_in.template,
            opt_in.unconfirmed_kept_days, clock(), retention)),
        "material": (MaterialMessage, lambda m: deliver_material(
            m, config.forms.get(m.form_id), store, mailer, composer_for(None, config), config.templates,
            downloads.template, downloads.link_days, clock(), retention)),
        "registration": (RegistrationMessage, lambda m: deliver_registration(
            m, config.events, store, mailer, composer_for(None, config), config.templates, clock(), retention)),
        "event_reminder": (ReminderMessage, lambda m: deliver_reminder(
            m, config.events, store, mailer, composer_for(None, config), config.templates, clock(), retention)),
        "event_follow_up": (FollowUpMessage, lambda m: deliver_follow_up(
            m, config.events, store, mailer, composer_for(None, config), config.templates, downloads.link_days,
            clock(), retention)),
        "event_promotion": (PromotionMessage, lambda m: deliver_promotion(
            m, config.events, store, mailer, composer_for(None, config), config.templates, clock(), retention)),
    }

    def send(queued: QueueMessage) -> None:
        # A malformed message fails here, returns to the queue and ends in its DLQ: nothing is lost.
        body = json.loads(queued.body)
        if isinstance(body, dict) and body.get("kind") == "campaign":
            send_campaign(CampaignMessage.of(**body))
            return
        if isinstance(body, dict) and body.get("kind") == "campaign_test":
            send_test(CampaignTestMessage.of(**body))
            return
        kind = body.get("kind") if isinstance(body, dict) else None
        if kind in asked_for:
            model, deliver_asked_for = asked_for[kind]
            asked = model.of(**body)
            outcome = deliver_asked_for(asked)
            logger.info("asked-for email", extra={"kind": kind, "lead_id": asked.lead_id, "outcome": outcome})
            return
        message = StepMessage.of(**body)
        outcome = deliver(message, store, mailer, composer_for(None, config), config.sequences, config.subscriptions,
                          clock(), config.api.event_retention_days)
        if outcome == "sent":  # the dashboard's; every outcome is in the log line
            metrics.add_metric(name="EmailsSent", unit="Count", value=1)
        logger.info("step email", extra={"lead_id": message.lead_id, "sequence": message.sequence,
                                         "step": message.step, "outcome": outcome})

    def send_test(message: CampaignTestMessage) -> None:
        """A marketer's test from the console, with the config version they saw: to the seed, tagged as a test (no
        campaign counter moves). Sent again if the batch is retried: a seed may get a test twice, never a lead."""
        version = message.config_version
        its_config = config_of(version)
        try:
            for _, raw in proof_emails(its_config, message.campaign_id, message.to, message.language,
                                       composer_for(version, its_config), clock()):
                mailer.send(raw, message.to, {"test": message.campaign_id})
        except CampaignRefused:  # not a campaign or a seed of that version (the console checked): nothing to retry
            logger.warning("campaign test not sent: not a seed of the campaign", extra={
                "campaign": message.campaign_id, "config_version": version})  # never the address
            return
        logger.info("campaign test sent", extra={"campaign": message.campaign_id, "config_version": version})

    def send_campaign(message: CampaignMessage) -> None:
        if message.campaign_id not in states:
            states[message.campaign_id] = campaign_state(message.campaign_id)
        version = message.config_version
        scheduled_with = config_of(version)  # the whole email from that one version
        if version not in evaluators:
            evaluators[version] = SegmentEvaluator(scheduled_with.segments, scheduled_with.scoring,
                                                 scheduled_with.subscriptions)
        outcome = deliver_campaign(message, states[message.campaign_id], store, mailer,
                                   composer_for(version, scheduled_with), scheduled_with, evaluators[version], clock())
        if outcome == "sent":
            metrics.add_metric(name="EmailsSent", unit="Count", value=1)
        logger.info("campaign email", extra={"lead_id": message.lead_id, "campaign": message.campaign_id,
                                             "outcome": outcome})

    return partial_response(event, send)
