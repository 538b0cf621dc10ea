"""SES events: the configuration set publishes every event to EventBridge's default bus, a rule sends this
configuration set's to an SQS queue, the queue to a function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from infra.constructs.monitoring import business_metric
from infra.constructs.queues import RETENTION
from nurture.topology import FUNCTIONS, SEND_QUEUE_RECEIVES, ses_events_pattern

# Every kind SES publishes; the handler records what it uses and counts the rest.
EVENT_KINDS = [ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.BOUNCE,
               ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.REJECT, ses.EmailSendingEvent.OPEN,
               ses.EmailSendingEvent.CLICK, ses.EmailSendingEvent.RENDERING_FAILURE,
               ses.EmailSendingEvent.DELIVERY_DELAY, ses.EmailSendingEvent.SUBSCRIPTION]


class SesEvents(Construct):
    """No topic and no key of our own (issue 20): SES may publish only to the default bus, where AWS's own events
    cost nothing, and EventBridge delivers to a queue with SQS-managed encryption (docs/decisions.md, 71)."""

    def __init__(self, scope: Construct, construct_id: str, configuration_set: ses.ConfigurationSet,
                 dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self, "Queue", retention_period=RETENTION, visibility_timeout=Duration.minutes(3),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=SEND_QUEUE_RECEIVES, queue=dead_letters))
        bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        # Other configuration sets of the account publish to the same bus: the rule takes this one's events only,
        # by the tag SES puts on every event it publishes for a configuration set.
        pattern = ses_events_pattern(configuration_set.configuration_set_name)
        self.rule = events.Rule(
            self, "Rule", event_bus=bus, description="Nurture: SES's events of its configuration set, to its queue",
            event_pattern=events.EventPattern(source=pattern["source"], detail=pattern["detail"]))
        # The queue's policy lets only this rule send (aws:SourceArn); what EventBridge cannot deliver in its day of
        # retries lands beside what the function could not handle, with a policy letting only this rule in.
        self.rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=dead_letters))
        destination = configuration_set.add_event_destination(
            "AllEvents", destination=ses.EventDestination.event_bus(bus), events=EVENT_KINDS)
        # SES switches to the bus only once the rule and the queue's policy are there: no event falls between.
        destination.node.add_dependency(self.rule)

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
