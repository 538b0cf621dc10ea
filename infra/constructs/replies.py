"""Replies: SES receiving stores each message sent to the reply domain in a private bucket kept a few days, then
invokes the replies function with its receipt (docs/replies.md)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Validations
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.buckets import acknowledge_prefix, private_bucket
from infra.constructs.function import NurtureFunction
from infra.constructs.nag import acknowledge
from nurture.topology import REPLY_KEPT_DAYS, REPLY_OBJECT_PREFIX

# Lambda's asynchronous retries of a failed invocation; an event older than this goes to the dead-letter queue.
RECEIPT_MAX_AGE = Duration.hours(6)


class ReplyReceiving(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # What people write is personal data: never public, encrypted, and gone in days (the reply's excerpt is
        # kept on the lead's activity, with the event retention).
        self.bucket = private_bucket(
            self, "Bucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(REPLY_KEPT_DAYS))],
            # Kept when the stack goes (a delete would fail on replies still in it); its lifecycle empties it in days.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(Validations.of(self.bucket), "AwsSolutions-S1",
                    "Holds raw replies for a few days only; an access log would keep their names (SES message ids) "
                    "longer than the messages. CloudTrail data events can be switched on for an audit.")

    def attach(self, function: NurtureFunction, dead_letters: sqs.IQueue, reply_domain: str) -> None:
        """The function reads the stored replies; with a reply domain, a receipt rule set (to be made the active
        one: docs/replies.md) stores and hands it every message sent there."""
        function.allow(["s3:GetObject"], [self.bucket.arn_for_objects(f"{REPLY_OBJECT_PREFIX}*")])
        acknowledge_prefix(function, self.bucket, REPLY_OBJECT_PREFIX,
                           "Each reply is an object named by SES's message id, unknown until it arrives.")
        function.function.configure_async_invoke(
            retry_attempts=2, max_event_age=RECEIPT_MAX_AGE, on_failure=destinations.SqsDestination(dead_letters))
        if not reply_domain:
            return
        self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", drop_spam=False)
        self.rule_set.add_rule(
            "Replies", recipients=[reply_domain], scan_enabled=True, tls_policy=ses.TlsPolicy.OPTIONAL,
            actions=[ses_actions.S3(bucket=self.bucket, object_key_prefix=REPLY_OBJECT_PREFIX),
                     ses_actions.Lambda(function=function.function,
                                        invocation_type=ses_actions.LambdaInvocationType.EVENT)])
