"""Alerts to salespeople: the queue of alert jobs the handoff publisher fills, and the notifier consuming it one
alert at a time, so a slow or failing webhook holds up no other alert."""

from __future__ import annotations

from aws_cdk import Aws, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from infra.constructs.nag import acknowledge
from infra.constructs.queues import worker_queue
from nurture.topology import ALERT_QUEUE_RECEIVES, FUNCTIONS


class Alerts(Construct):
    def __init__(self, scope: Construct, construct_id: str, dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        # A failed alert's backoff is set per message by the notifier; the shared dead-letter queue's alarm catches
        # the last try.
        self.queue = worker_queue(self, "Queue", "notifier", dead_letters, ALERT_QUEUE_RECEIVES)
        # Each webhook's URL and signing secret: one SecureString per webhook id under this path.
        self.webhook_parameters = f"/nurture/{Stack.of(self).stack_name}/webhooks"

    def attach(self, notifier: NurtureFunction, publishers: list[NurtureFunction]) -> None:
        """The notifier consumes; the handoff publisher (new handoffs) and the dispatcher (overdue verdicts)
        queue."""
        notifier.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=1, report_batch_item_failures=True,
            max_concurrency=FUNCTIONS["notifier"].reserved_concurrency))
        notifier.role.add_to_policy(iam.PolicyStatement(
            actions=["ssm:GetParameter"],
            resources=[f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter{self.webhook_parameters}/*"]))
        acknowledge(Validations.of(notifier.role),
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:"
                    f"parameter{self.webhook_parameters}/*]",
                    "The wildcard is the webhook id: the notifier reads the parameters of this stack's webhooks "
                    "only, whichever ids config/sales.yaml names (a config push can add one).")
        for publisher in publishers:
            publisher.allow(["sqs:SendMessage"], [self.queue.queue_arn])
