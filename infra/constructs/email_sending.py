"""Step-email sending: the SES configuration set, and the sender on the send queue within SES's rate."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from nurture.topology import FUNCTIONS

MAX_BATCH = 10
# The part of the sender's timeout its paced sends may take; the rest is for reads and writes.
PACED_SECONDS = FUNCTIONS["sender"].timeout_seconds * 2 // 3


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

    def allow_alerts(self, notifier: NurtureFunction) -> None:
        """Alerts to salespeople: from the same address, without the configuration set (no tracking, no KPIs)."""
        notifier.role.add_to_policy(iam.PolicyStatement(
            actions=["ses:SendEmail"], resources=[self.identity_arn],
            conditions={"StringEquals": {"ses:FromAddress": self.sender_address}}))

    def attach_sender(self, sender: NurtureFunction, queue: sqs.IQueue, concurrency: int,
                      rate_per_instance: float) -> None:
        sender.role.add_to_policy(iam.PolicyStatement(
            actions=["ses:SendEmail"],
            resources=[self.identity_arn, self.configuration_set_arn],
            conditions={"StringEquals": {"ses:FromAddress": self.sender_address}},
        ))
        # Each instance paces itself to `rate_per_instance` (SES_SEND_RATE), so a batch is as large as it
        # can be while its sends still fit in PACED_SECONDS of the function's timeout.
        paced_batch = int(rate_per_instance * PACED_SECONDS)
        if paced_batch < 1:
            raise ValueError(f"nurture:sesSendRate / nurture:senderConcurrency is {rate_per_instance:g} emails/s per "
                             f"sender: too slow to send one email in {PACED_SECONDS} s; lower the concurrency")
        # Reserved concurrency times the pace caps the send rate; the event source's own maximum keeps SQS
        # from invoking beyond it and throttling messages back.
        sender.function.add_event_source(sources.SqsEventSource(
            queue, batch_size=min(MAX_BATCH, paced_batch), report_batch_item_failures=True,
            max_concurrency=concurrency))
