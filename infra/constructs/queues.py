"""SQS queues: the sales handoff FIFO queue and the dead-letter queues behind every consumer."""

from __future__ import annotations

from aws_cdk import Duration, Validations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge
from nurture.topology import FUNCTIONS

RETENTION = Duration.days(14)  # SQS's maximum: time for an operator to look at what failed


def dead_letter_queue(scope: Construct, construct_id: str, fifo: bool = False) -> sqs.Queue:
    queue = sqs.Queue(scope, construct_id, fifo=fifo or None, retention_period=RETENTION,
                      encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
    for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
        acknowledge(Validations.of(queue), rule, "This queue is itself a dead-letter queue.")
    return queue


def worker_queue(scope: Construct, construct_id: str, worker: str, dead_letters: sqs.IQueue,
                 receives: int) -> sqs.Queue:
    """A standard queue a function consumes: visible again after six times the function's timeout, as Lambda
    advises, and moved to the dead-letter queue after `receives` tries."""
    return sqs.Queue(scope, construct_id, retention_period=RETENTION,
                     visibility_timeout=Duration.seconds(6 * FUNCTIONS[worker].timeout_seconds),
                     encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=receives, queue=dead_letters))


class DeadLetters(Construct):
    """One dead-letter queue shared by every standard queue and event source: one alarm metric watches them all
    (issue 20). A message keeps where it came from: its source queue's ARN (SQS redrives it there), or the
    function and stream a stream consumer's failure record names."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queue = dead_letter_queue(self, "Queue")


class HandoffQueue(Construct):
    """FIFO: one message group per lead keeps a lead's handoffs in order; dedup by handoff id. Its dead letters
    have their own queue: a FIFO queue's must be FIFO too."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(self, "DeadLetters", fifo=True)
        self.queue = sqs.Queue(
            self,
            "Queue",
            fifo=True,
            content_based_deduplication=False,
            retention_period=RETENTION,
            # Sales tooling has five minutes to handle a message before another poller may see it.
            visibility_timeout=Duration.minutes(5),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=self.dead_letters),
        )
