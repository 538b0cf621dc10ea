"""Segment scans: the queue of scan parts and the audience worker that consumes it, one part at a time."""

from __future__ import annotations

from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from infra.constructs.queues import worker_queue
from nurture.topology import FUNCTIONS, SEND_QUEUE_RECEIVES


class AudienceScan(Construct):
    def __init__(self, scope: Construct, construct_id: str, dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.queue = worker_queue(self, "Queue", "audience", dead_letters, SEND_QUEUE_RECEIVES)

    def attach(self, worker: NurtureFunction, table_arn: str) -> None:
        """One part per invocation: a part runs until its time is short, so batching would only delay the rest.
        The worker scans the table (for its profiles), records each page on its part, and hands a part on in a
        new message; nothing else."""
        worker.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=1, report_batch_item_failures=True,
            max_concurrency=FUNCTIONS["audience"].reserved_concurrency))
        worker.allow(["dynamodb:Scan"], [table_arn])
        worker.allow(["sqs:SendMessage"], [self.queue.queue_arn])
