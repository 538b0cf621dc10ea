"""The sender's SQS consumer: each message is one due step email (from the dispatcher) or one campaign email
(from the audience workers), sent at most once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.config import NurtureConfig
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.campaigns.lifecycle import CampaignMessage, CampaignState
from nurture.domain.campaigns.sending import CampaignSenderStore, deliver_campaign
from nurture.domain.dispatch import StepMessage
from nurture.domain.sending import Composer, Mailer, deliver
from nurture.observability import logger, metrics

# A batch whose every record failed is still answered record by record, not with an exception.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
METRICS = {"sent": "StepEmailsSent", "failed": "StepEmailsFailed", "skipped": "StepsSkipped",
           "stopped": "SequencesStopped", "reengaged": "DormantLeadsReengaged", "sunset": "LeadsSunset"}
# Anything else (a duplicate, an erased lead) is a message dropped.
CAMPAIGN_METRICS = {"sent": "CampaignEmailsSent", "failed": "CampaignEmailsFailed", "skipped": "CampaignEmailsSkipped",
                    "held": "CampaignEmailsHeld"}


def handle_batch(event: dict[str, Any], context: LambdaContext, store: CampaignSenderStore, mailer: Mailer,
                 composer: Callable[[NurtureConfig], Composer], config: NurtureConfig, clock: Callable[[], datetime],
                 campaign_state: Callable[[str], CampaignState | None],
                 config_of: Callable[[int], NurtureConfig]) -> dict[str, Any]:
    states: dict[str, CampaignState | None] = {}  # read once a batch: a cancel stops the next batch on
    # Per batch and config version: rendering setup and the compiled segments, not per message.
    prepared: dict[int, tuple[NurtureConfig, Composer, SegmentEvaluator]] = {}

    def send(record: SQSRecord) -> None:
        # A malformed message fails here, returns to the queue and ends in its DLQ: nothing is lost.
        body = json.loads(record.body)
        if isinstance(body, dict) and body.get("kind") == "campaign":
            send_campaign(CampaignMessage.model_validate(body))
            return
        message = StepMessage.model_validate(body)
        outcome = deliver(message, store, mailer, composer(config), config.sequences, clock(),
                          config.api.event_retention_days)
        if outcome in METRICS:
            metrics.add_metric(name=METRICS[outcome], unit="Count", value=1)
        logger.info("step email", extra={"lead_id": message.lead_id, "sequence": message.sequence,
                                         "step": message.step, "outcome": outcome})

    def send_campaign(message: CampaignMessage) -> None:
        if message.campaign_id not in states:
            states[message.campaign_id] = campaign_state(message.campaign_id)
        if message.config_version not in prepared:
            scheduled_with = config_of(message.config_version)  # the whole email from that one version
            prepared[message.config_version] = (scheduled_with, composer(scheduled_with),
                                                SegmentEvaluator(scheduled_with.segments, scheduled_with.scoring))
        scheduled_with, its_composer, evaluator = prepared[message.config_version]
        outcome = deliver_campaign(message, states[message.campaign_id], store, mailer, its_composer, scheduled_with,
                                   evaluator, clock())
        kind = "skipped" if outcome.startswith("skipped_") else outcome
        metrics.add_metric(name=CAMPAIGN_METRICS.get(kind, "CampaignMessagesDropped"), unit="Count", value=1)
        logger.info("campaign email", extra={"lead_id": message.lead_id, "campaign": message.campaign_id,
                                             "outcome": outcome})

    return dict(process_partial_response(event=event, record_handler=send, processor=processor, context=context))
