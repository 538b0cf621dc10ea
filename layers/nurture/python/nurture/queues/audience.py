"""The audience worker's SQS consumer: each message is one part of a segment scan, resumed where it stands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.config import NurtureConfig
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.audiences.scan import ScanStore, ScanTask, TaskQueue, run_part
from nurture.domain.campaigns.lifecycle import CampaignMembers, CampaignState, MessageQueue
from nurture.observability import logger
from nurture.queues.batch import QueueMessage, partial_response


def handle_batch(event: dict[str, Any], context: LambdaContext, store: ScanStore, queue: TaskQueue,
                 send_queue: MessageQueue, campaign_state: Callable[[str], CampaignState | None],
                 config_of: Callable[[int], NurtureConfig], clock: Callable[[], datetime]) -> dict[str, Any]:
    def scan(message: QueueMessage) -> None:
        # A malformed message or a config version that cannot be read fails here, comes back, then goes to the DLQ.
        task = ScanTask.read(message.body)
        if task.campaign:
            state = campaign_state(task.campaign)
            if state is None or state.status == "cancelled":
                logger.info("campaign cancelled: its scan stops", extra={"campaign": task.campaign})
                return
        config = config_of(task.config_version)
        evaluator = SegmentEvaluator(config.segments, config.scoring, config.subscriptions)
        members = CampaignMembers(send_queue, config.campaigns.campaigns[task.campaign]) if task.campaign else None
        pages = run_part(task, store, queue, evaluator, clock(), context.get_remaining_time_in_millis, members)
        logger.info("segment scan part", extra={"job_id": task.job_id, "segment": task.segment, "part": task.part,
                                                "pages": pages})

    return partial_response(event, scan)
