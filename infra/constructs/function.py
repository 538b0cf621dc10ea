"""One Lambda function with its own role, log group and only the permissions it is granted."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import paths
from infra.constructs.nag import acknowledge
from infra.constructs.shared_code import ARCHITECTURE, RUNTIME, SharedCode
from nurture.topology import FunctionSpec

METRICS_NAMESPACE = "Nurture"
# A function's own DLQ catches only asynchronous invocations; none of ours is invoked that way with
# anything to lose. Where each one's failures go instead:
FAILURES_KEPT_BY = {
    "api": "Invoked synchronously by API Gateway: the caller gets the error response.",
    "stream": "Invoked by the table stream's event source mapping, whose on-failure destination is an SQS "
              "dead-letter queue.",
    "queue": "Invoked by an SQS event source: failed messages return to the queue, then go to its dead-letter "
             "queue.",
    "schedule": "Invoked every minute by EventBridge Scheduler: a failed tick loses nothing, due leads stay due "
                "and the next tick claims them.",
    "receipt": "Invoked asynchronously by SES receiving: Lambda retries twice, then its on-failure destination, "
               "the shared dead-letter queue, keeps the receipt; the raw message stays in the reply bucket.",
}


def service_name(function: str) -> str:
    """The Powertools service (the metrics' `service` dimension) of a function."""
    return f"nurture-{function}"


def construct_name(function: str) -> str:
    """sales_api -> SalesApi: how a function's name appears in construct ids."""
    return "".join(part.title() for part in function.split("_"))


class NurtureFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, spec: FunctionSpec, code: SharedCode,
                 environment: dict[str, str], log_retention: logs.RetentionDays,
                 reserved_concurrency: int | None = None, tracing: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"Nurture {spec.name} function")
        # Only its own log group: no AWSLambdaBasicExecutionRole with logs on every group.
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.log_group.log_group_arn, f"{self.log_group.log_group_arn}:*"],
        ))
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=f"{Stack.of(self).stack_name}-{spec.name}",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.lambda_handler",
            code=lambda_.Code.from_asset(str(paths.REPO / spec.asset), exclude=["__pycache__", "*.pyc"]),
            layers=code.layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # Lambda's own START and REPORT lines are INFO: not ingested (and billed) for every invocation. The
            # functions' own records stay at INFO.
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            # Without a tracing config Lambda passes a caller's sampled trace through (none of ours is sampled) and
            # records nothing itself; CDK's PASS_THROUGH would also grant X-Ray writes. nurture:tracing turns Active
            # on, and Powertools' tracer with it.
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=reserved_concurrency,
            environment={
                "POWERTOOLS_SERVICE_NAME": service_name(spec.name),
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "NURTURE_CONFIG_DIR": "/opt/config",
                "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
                **environment,
            },
        )
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(Validations.of(self.function), rule,
                        "Python 3.13 is pinned on purpose: the dependency layer is built from cp313 arm64 wheels, "
                        "so a runtime upgrade is a deliberate change together with the layer.")
        acknowledge(Validations.of(self.function), "Serverless-LambdaDLQ", FAILURES_KEPT_BY[spec.trigger])
        if spec.trigger == "queue":
            acknowledge(Validations.of(self.function), "Serverless-LambdaEventSourceMappingDestination",
                        "An SQS event source has no on-failure destination: what fails returns to the queue and, "
                        "after its receives, moves to the queue's dead-letter queue.")
        if not tracing:
            acknowledge(Validations.of(self.function), "Serverless-LambdaTracing",
                        "Tracing is opt-in (nurture:tracing): Active tracing records every invocation, whatever the "
                        "sampling rules, and costs as much as the rest of a tracking hit; logs carry the correlation "
                        "ids instead.")
        if tracing:
            self.allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"])
            acknowledge(
                Validations.of(self.role),
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
            )
        acknowledge(
            Validations.of(self.role),
            f"AwsSolutions-IAM5[Resource::<{self._log_group_logical_id()}.Arn>:*]",
            "Log streams are created under the function's own log group only.",
        )

    def _log_group_logical_id(self) -> str:
        child = self.log_group.node.default_child
        assert child is not None
        return Stack.of(self).get_logical_id(child)  # type: ignore[arg-type]

    def allow(self, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None) -> None:
        self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions))
