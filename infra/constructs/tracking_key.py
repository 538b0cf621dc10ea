"""The keyring that signs tracking tokens (open pixel, click and unsubscribe links): an SSM SecureString parameter.

CloudFormation cannot create a SecureString parameter, so a custom resource does (infra/custom_resources/
signing_keyring.py): a new random key at the first deploy, or the keyring of the Secrets Manager secret a stack
from before issue 20 kept (`nurture:signingKeyImportFrom`). Standard tier and the AWS-managed key aws/ssm cost
nothing a month; Secrets Manager charged $0.40 for a secret whose rotation and replication Nurture does not use
(docs/decisions.md, 72).
"""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import paths
from infra.constructs.function import NurtureFunction
from infra.constructs.nag import acknowledge
from infra.constructs.shared_code import ARCHITECTURE, RUNTIME

HANDLER = paths.REPO / "infra" / "custom_resources" / "signing_keyring.py"
INLINE_LIMIT = 4096  # CloudFormation's ZipFile takes at most 4 KB of code


def parameter_name(stack_name: str) -> str:
    return f"/{stack_name}/signing-keyring"


class TrackingKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, log_retention: logs.RetentionDays,
                 import_from: str = "") -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.parameter_name = parameter_name(stack.stack_name)
        self.parameter_arn = stack.format_arn(service="ssm", resource="parameter",
                                              resource_name=self.parameter_name.lstrip("/"))
        code = HANDLER.read_text(encoding="utf-8")
        if len(code) > INLINE_LIMIT:
            raise ValueError(f"{HANDLER.name} is {len(code)} characters: CloudFormation inlines at most {INLINE_LIMIT}")
        logs_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Nurture: creates the signing keyring's parameter")
        role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                               resources=[logs_group.log_group_arn, f"{logs_group.log_group_arn}:*"]))
        # That one parameter, and only to create it. SecureString with aws/ssm needs no KMS grant: that key's policy
        # lets every principal of the account use it through SSM.
        role.add_to_policy(iam.PolicyStatement(actions=["ssm:PutParameter"], resources=[self.parameter_arn]))
        if import_from:
            role.add_to_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[import_from]))
        function = lambda_.Function(
            self, "Function", description="Nurture: creates the tracking links' signing keyring (once)",
            runtime=RUNTIME, architecture=ARCHITECTURE, handler="index.handler", code=lambda_.Code.from_inline(code),
            memory_size=128, timeout=Duration.seconds(60), role=role, log_group=logs_group,
            logging_format=lambda_.LoggingFormat.JSON)
        self.resource = CustomResource(
            self, "Keyring", service_token=function.function_arn, resource_type="Custom::SigningKeyring",
            properties={"Name": self.parameter_name, "ImportFrom": import_from},
            # Stack deletion leaves the parameter: links in emails already sent keep verifying.
            removal_policy=RemovalPolicy.RETAIN)
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(Validations.of(function), rule,
                        "The same pinned Python 3.13 as the functions; it runs once, at the first deploy.")
        acknowledge(Validations.of(function), "Serverless-LambdaDLQ",
                    "CloudFormation invokes it and waits for its answer: a failure fails the deploy, nothing is lost.")
        acknowledge(Validations.of(function), "Serverless-LambdaTracing",
                    "Runs once per stack, at its first deploy: nothing to trace.")
        acknowledge(Validations.of(role), f"AwsSolutions-IAM5[Resource::<{_logical_id(logs_group)}.Arn>:*]",
                    "Log streams are created under the function's own log group only.")

    def grant_read(self, function: NurtureFunction) -> None:
        """GetParameter on the keyring only; decrypting with aws/ssm needs no KMS grant (its key policy lets every
        principal of the account decrypt through SSM). The function starts only once the parameter is there."""
        function.allow(["ssm:GetParameter"], [self.parameter_arn])
        function.function.node.add_dependency(self.resource)


def _logical_id(construct: Construct) -> str:
    child = construct.node.default_child
    assert child is not None
    return Stack.of(construct).get_logical_id(child)  # type: ignore[arg-type]
