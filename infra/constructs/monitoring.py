"""What an operator looks at: alarms that reach people through one SNS topic, and a dashboard if asked for."""

from __future__ import annotations

from aws_cdk import Duration, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import METRICS_NAMESPACE, NurtureFunction, service_name
from infra.constructs.nag import acknowledge
from nurture.topology import SHARED_METRIC_DIMENSIONS

FIVE_MINUTES = Duration.minutes(5)
API_SERVER_ERRORS = 5  # the API's own failures (5xx) in five minutes, twice in a row
ITERATOR_AGE_MS = 60_000  # the scorer or the handoff publisher a minute behind the table
HANDOFF_WAIT = Duration.hours(4)  # a hot lead nobody in sales has picked up for half a working day
SEND_QUEUE_WAIT = Duration.minutes(15)  # due emails the sender is not keeping up with

# The business, as Powertools' metrics count it (nurture.observability.METRIC_NAMES): (graph title, [(function,
# metric), ...]). Everything else is in `nurture report`.
BUSINESS_GRAPHS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Forms and hot leads", [("forms", "FormSubmitted"), ("scoring", "HotLeads")]),
    ("Emails sent", [("sender", "EmailsSent")]),
]


def business_metric(function: str, name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=name, statistic="Sum", period=FIVE_MINUTES,
                             dimensions_map={"service": service_name(function)})


def _labelled(metrics: dict[str, cloudwatch.Metric]) -> list[cloudwatch.IMetric]:
    return [metric.with_(label=name) for name, metric in metrics.items()]


class Monitoring(Construct):
    """At most ten alarm metrics, at $0.10 a month each (issue 20): the dead-letter queues (one shared, the handoff's
    FIFO one), the API's server errors, how far the stream consumers are behind, how long the handoff and send
    queues wait, the deliverability guard's two (made beside it) and config problems. A worker's failures end in
    a dead-letter queue or hold up its stream or queue, which those watch."""

    def __init__(self, scope: Construct, construct_id: str, *, functions: dict[str, NurtureFunction],
                 stream_consumers: list[str], api: apigwv2.HttpApi, dead_letters: dict[str, sqs.IQueue],
                 handoff_queue: sqs.IQueue, send_queue: sqs.IQueue, watched: list[cloudwatch.Alarm],
                 alarm_email: str | None, dashboard: bool) -> None:
        super().__init__(scope, construct_id)
        # No key of its own (decision 75): CloudWatch may publish only to a topic encrypted with a customer-managed
        # key, $1 a month and $1 more for each of its first two yearly rotations, for messages that name an alarm
        # and a metric's value, never a lead. TLS only, and only CloudWatch alarms of this account may publish.
        self.topic = sns.Topic(self, "Alarms", enforce_ssl=True, display_name="Nurture alarms")
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            actions=["sns:Publish"], resources=[self.topic.topic_arn],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}))
        acknowledge(Validations.of(self.topic), "AwsSolutions-SNS2",
                    "Alarm notifications carry an alarm's name, description and a metric's value, never personal "
                    "data; encrypting them needs a customer-managed key (CloudWatch cannot use aws/sns), which "
                    "would be a third of the quiet month's cost (docs/decisions.md, 75). TLS is enforced.")
        if alarm_email:
            subscription = self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            acknowledge(Validations.of(subscription), "Serverless-SNSRedrivePolicy",
                        "An alarm email that cannot be delivered has nowhere better to go: the alarm itself stays "
                        "in CloudWatch and on the dashboard.")
        self.alarms: list[cloudwatch.Alarm] = []
        for alarm in watched:  # made beside what they watch (the deliverability guard's)
            # The pause is reported once and lasts until someone resumes: a quiet metric is no "OK".
            self._notify(alarm, ok=False)

        # Each metric once: the alarm and the graph show the same statistic (graphs add a label only).
        dead_letter_depth = {name: queue.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum") for name, queue in dead_letters.items()}
        iterator_age = {name: functions[name].function.metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum")
                        for name in stream_consumers}
        oldest = {name: queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic="Maximum")
                  for name, queue in (("handoff", handoff_queue), ("send", send_queue))}
        server_errors = api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")

        for name, depth in dead_letter_depth.items():
            self.alarm(f"{name}DeadLetters", depth, 0, f"Messages in the {name} dead-letter queue: something "
                       "failed for good. Look at them (each names its source), fix the cause, then redrive.")
        self.alarm("ApiServerErrors", server_errors, API_SERVER_ERRORS, "The API answers with server errors (5xx): "
                   "forms, tracking or the sales API are failing. See the API functions' logs.", periods=2)
        for name, age in iterator_age.items():
            self.alarm(f"{name}StreamBehind", age, ITERATOR_AGE_MS, f"The {name} function is more than a minute "
                       "behind the table's stream.")
        self.alarm("HandoffsWaiting", oldest["handoff"], HANDOFF_WAIT.to_seconds(),
                   "A hot lead has waited in the handoff queue for hours: is sales tooling polling?")
        self.alarm("SendQueueWaiting", oldest["send"], SEND_QUEUE_WAIT.to_seconds(),
                   "Due step emails are waiting for the sender: SES throttling or sender errors.")
        # Every function publishes it under one dimension: one metric, whichever function met the problem.
        self.alarm("ConfigProblem", cloudwatch.Metric(
            namespace=METRICS_NAMESPACE, metric_name="ConfigProblem", statistic="Sum", period=FIVE_MINUTES,
            dimensions_map=SHARED_METRIC_DIMENSIONS), 0,
            "A function could not use a pushed config version (it does not validate with the deployed code) or "
            "could not read the config store: it runs the last good version. `nurture config status`, then push "
            "a fix or roll back, or check the config bucket and the functions' roles.")

        self.dashboard: cloudwatch.Dashboard | None = None
        if dashboard:
            self.dashboard = self._dashboard(functions, dead_letter_depth, iterator_age, oldest, server_errors)

    def _dashboard(self, functions: dict[str, NurtureFunction], dead_letter_depth: dict[str, cloudwatch.Metric],
                   iterator_age: dict[str, cloudwatch.Metric], oldest: dict[str, cloudwatch.Metric],
                   server_errors: cloudwatch.Metric) -> cloudwatch.Dashboard:
        board = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{Stack.of(self).stack_name}-health",
                                     default_interval=Duration.days(7))
        board.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24))
        board.add_widgets(*[
            cloudwatch.GraphWidget(title=title, width=8, left=[business_metric(f, m) for f, m in metrics])
            for title, metrics in BUSINESS_GRAPHS])
        board.add_widgets(
            cloudwatch.GraphWidget(title="API server errors", width=8, left=[server_errors.with_(label="5xx")]),
            cloudwatch.GraphWidget(title="Lambda duration p99 (ms)", width=8, left=[
                f.function.metric_duration(period=FIVE_MINUTES, statistic="p99", label=name)
                for name, f in functions.items()]),
            cloudwatch.GraphWidget(title="Stream iterator age (ms)", width=8, left=_labelled(iterator_age)),
            cloudwatch.GraphWidget(title="Dead-letter queues", width=8, left=_labelled(dead_letter_depth)),
            cloudwatch.GraphWidget(title="Oldest message (s)", width=8, left=_labelled(oldest)),
        )
        return board

    def alarm(self, construct_id: str, metric: cloudwatch.IMetric, threshold: float, description: str,
              periods: int = 1) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, construct_id, metric=metric, threshold=threshold, evaluation_periods=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description)
        self._notify(alarm)
        return alarm

    def _notify(self, alarm: cloudwatch.Alarm, ok: bool = True) -> None:
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        if ok:
            alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)

    @property
    def dashboard_url(self) -> str | None:
        if self.dashboard is None:
            return None
        region = Stack.of(self).region
        return (f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                f"#dashboards:name={self.dashboard.dashboard_name}")
