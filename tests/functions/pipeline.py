"""The stream path as the local runtime runs it: poller -> scoring -> handoff -> SQS."""

from __future__ import annotations

import json
from typing import Any

import boto3

from nurture.local.functions import invoke
from nurture.local.resources import LocalResources
from nurture.local.streams import StreamPoller


class Pipeline:
    def __init__(self) -> None:
        resources = LocalResources()
        self.batches: dict[str, list[dict[str, Any]]] = {"scoring": [], "handoff": []}
        self.responses: dict[str, list[Any]] = {"scoring": [], "handoff": []}
        consumers = {name: self._consumer(name) for name in self.batches}
        self.poller = StreamPoller(resources.table_name, resources.region, consumers)
        self.queue_url = resources.handoff_queue_url

    def _consumer(self, name: str) -> Any:
        def consume(event: dict[str, Any]) -> Any:
            self.batches[name].append(event)
            response = invoke(name, event)
            self.responses[name].append(response)
            return response

        return consume

    def drain(self, rounds: int = 4) -> None:
        """Poll until the stream is quiet: scoring writes HANDOFF# items that the next poll publishes."""
        for _ in range(rounds):
            if self.poller.poll_once() == 0:
                return

    def messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
