"""The SQS queue the sender consumes: step emails from the dispatcher, campaign emails from the audience
workers."""

from __future__ import annotations

from collections.abc import Sequence

from nurture.adapters.handoff_queue import SqsQueue
from nurture.domain.messages import Message


class SendQueue(SqsQueue):

    def send_batch(self, messages: Sequence[Message]) -> None:
        # On a refusal the claimed leads' leases run out and they become due again, and a scan page is not
        # recorded and is read again: nothing is lost.
        self._send_bodies([message.to_json() for message in messages])
