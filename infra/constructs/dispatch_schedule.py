"""The step-email send queue and the EventBridge Scheduler schedule that ticks the dispatcher."""

from __future__ import annotations

from aws_cdk import Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from infra.constructs.nag import acknowledge
from infra.constructs.queues import RETENTION
from nurture.topology import SEND_QUEUE_RECEIVES


class SendQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            # Six times the sender's timeout, as Lambda advises for queues it consumes.
            self, "Queue", retention_period=RETENTION, visibility_timeout=Duration.minutes(3),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=SEND_QUEUE_RECEIVES, queue=dead_letters),
        )


class DispatchSchedule(Construct):
    """rate(1 minute): the dispatcher's reads are proportional to what is due, so idle ticks are cheap."""

    def __init__(self, scope: Construct, construct_id: str, dispatcher: NurtureFunction) -> None:
        super().__init__(scope, construct_id)
        # Its own role, allowed to invoke this one function (the target adds its versions, ":*").
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        function_id = Stack.of(self).get_logical_id(dispatcher.function.node.default_child)  # type: ignore[arg-type]
        acknowledge(Validations.of(role), f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
                    "The scheduler's target grants invoke on the dispatcher's versions; no other function.")
        self.schedule = scheduler.Schedule(
            self, "Tick", schedule=scheduler.ScheduleExpression.rate(Duration.minutes(1)),
            description="Nurture: dispatch due step emails",
            # A missed tick is not retried: the next one, a minute later, picks up the same due leads.
            target=targets.LambdaInvoke(dispatcher.function, role=role, retry_attempts=0,
                                        max_event_age=Duration.minutes(1)),
        )
