"""Attach a function to the table's stream with the filter nurture.table defines for it."""

from __future__ import annotations

from aws_cdk import Duration, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import NurtureFunction
from infra.constructs.nag import acknowledge
from nurture.table import TABLE


class StreamConsumer(Construct):
    def __init__(self, scope: Construct, construct_id: str, function: NurtureFunction,
                 table: dynamodb.Table, consumer: str, dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        acknowledge(Validations.of(function.role), "AwsSolutions-IAM5[Resource::*]",
                    "The stream event source needs dynamodb:ListStreams, which supports no resource-level "
                    "permissions (CDK grants it on *); the stream itself is granted by its ARN.")
        function.function.add_event_source(sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            max_batching_window=Duration.seconds(1),
            # Records that fail are retried alone (bisect) a few times, then described in the DLQ.
            bisect_batch_on_error=True,
            retry_attempts=5,
            max_record_age=Duration.hours(6),
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(dead_letters),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in TABLE.stream_filter(consumer).patterns],
        ))
