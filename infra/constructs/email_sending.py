"""Step-email sending: the SES configuration set, and the sender on the send queue within SES's rate."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction


class EmailSending(Construct):
    """Every step email goes out with this configuration set, so SES events map back to it (issue 5
    subscribes to them). The sender may send only from `sender_address`, through `identity`, with it."""

    def __init__(self, scope: Construct, construct_id: str, sender_address: str, identity: str) -> None:
        super().__init__(scope, construct_id)
        self.sender_address = sender_address
        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet",
            reputation_metrics=True,
            sending_enabled=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            # SES itself refuses addresses on the account's suppression list for these reasons.
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        stack = Stack.of(self)
        self.identity_arn = stack.format_arn(service="ses", resource="identity", resource_name=identity)
        self.configuration_set_arn = stack.format_arn(service="ses", resource="configuration-set",
                                                      resource_name=self.configuration_set.configuration_set_name)

    def attach_sender(self, sender: NurtureFunction, queue: sqs.IQueue, concurrency: int) -> None:
        sender.role.add_to_policy(iam.PolicyStatement(
            actions=["ses:SendEmail"],
            resources=[self.identity_arn, self.configuration_set_arn],
            conditions={"StringEquals": {"ses:FromAddress": self.sender_address}},
        ))
        # Reserved concurrency caps the send rate (each sender sends one email after another); the event
        # source's own maximum keeps SQS from invoking beyond it and throttling messages back.
        sender.function.add_event_source(sources.SqsEventSource(
            queue, batch_size=10, report_batch_item_failures=True, max_concurrency=concurrency))
