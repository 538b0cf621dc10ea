"""The SQS queue of segment-scan parts: one message per part in flight."""

from __future__ import annotations

from nurture.adapters.handoff_queue import SqsQueue
from nurture.domain.audiences.scan import ScanTask


class AudienceQueue(SqsQueue):
    def send(self, task: ScanTask) -> None:
        self.send_all([task])

    def send_all(self, tasks: list[ScanTask]) -> None:
        self._send_bodies([task.to_json() for task in tasks])
