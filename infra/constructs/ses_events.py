"""SES events: the configuration set publishes every event to SNS, SNS to an SQS queue, the queue to a function."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from infra.constructs.monitoring import business_metric
from infra.constructs.queues import RETENTION
from nurture.topology import FUNCTIONS, SEND_QUEUE_RECEIVES


class SesEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, configuration_set: ses.ConfigurationSet,
                 dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        # A key of our own: SES may only publish to an encrypted topic whose key lets it.
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="Nurture SES events topic")
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:GenerateDataKey*", "kms:Decrypt"], resources=["*"],
            principals=[iam.ServicePrincipal("ses.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": account}}))
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True,
                               display_name="Nurture SES events")
        configuration_set.add_event_destination(
            "AllEvents", destination=ses.EventDestination.sns_topic(self.topic),
            # Every kind SES publishes; the handler records what it uses and counts the rest.
            events=[ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.BOUNCE,
                    ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.REJECT, ses.EmailSendingEvent.OPEN,
                    ses.EmailSendingEvent.CLICK, ses.EmailSendingEvent.RENDERING_FAILURE,
                    ses.EmailSendingEvent.DELIVERY_DELAY, ses.EmailSendingEvent.SUBSCRIPTION])
        self.queue = sqs.Queue(
            self, "Queue", retention_period=RETENTION, visibility_timeout=Duration.minutes(3),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=SEND_QUEUE_RECEIVES, queue=dead_letters))
        # What SNS cannot deliver to the queue lands beside what the function could not handle.
        self.topic.add_subscription(subscriptions.SqsSubscription(self.queue, dead_letter_queue=dead_letters))

    def attach(self, function: NurtureFunction) -> None:
        # No more at once than the function reserves: SQS would invoke into throttles, and messages move toward
        # the DLQ with every throttled receive.
        function.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=10, max_batching_window=Duration.seconds(5), report_batch_item_failures=True,
            max_concurrency=FUNCTIONS["ses_events"].reserved_concurrency))
        # The deliverability guard paused sending: someone has to look before resuming.
        self.paused_alarm = self._guard_alarm(
            "SendingPaused", "Nurture paused step emails: the bounce or complaint rate crossed its limit. "
                             "See `nurture sending status`; resume with `nurture sending resume`.")
        # Over a threshold without the evidence to pause yet: the warning that comes before a pause.
        self.at_risk_alarm = self._guard_alarm(
            "SendingAtRisk", "A bounce or complaint rate is over its threshold, without the evidence to pause yet "
                             "(docs/ses-events.md). See `nurture sending status` and the lists sent to lately.")

    def _guard_alarm(self, metric: str, description: str) -> cloudwatch.Alarm:
        """An alarm on the first publication of one of the guard's metrics."""
        return cloudwatch.Alarm(
            self, metric, alarm_description=description, metric=business_metric("ses_events", metric),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
