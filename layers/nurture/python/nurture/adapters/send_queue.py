"""The SQS queue between the dispatcher and the sender."""

from __future__ import annotations

from nurture.adapters.handoff_queue import SqsQueue
from nurture.domain.dispatch import StepMessage


class SendQueue(SqsQueue):

    def send_batch(self, messages: list[StepMessage]) -> None:
        # On a refusal the claimed leads' leases run out and they become due again: nothing is lost.
        self._send_bodies([message.model_dump_json() for message in messages])
