"""The SQS queue the sender consumes: step emails from the dispatcher, campaign emails from the audience
workers."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from nurture.adapters.handoff_queue import SqsQueue
from nurture.domain.audiences.scan import ScanTask
from nurture.domain.campaigns.lifecycle import CampaignMessage


class SendQueue(SqsQueue):

    def send_batch(self, messages: Sequence[BaseModel]) -> None:
        # On a refusal the claimed leads' leases run out and they become due again, and a scan page is not
        # recorded and is read again: nothing is lost.
        self._send_bodies([message.model_dump_json() for message in messages])

    def found(self, task: ScanTask, lead_ids: list[str]) -> None:
        """A campaign's members, one message each."""
        self.send_batch([CampaignMessage(campaign_id=task.campaign, lead_id=lead_id,
                                         config_version=task.config_version) for lead_id in lead_ids])
