"""The managed policy sales tooling attaches: consume the handoff queue, call the sales API."""

from __future__ import annotations

from aws_cdk import Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge
from nurture.topology import ROUTES


class SalesAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, queue: sqs.IQueue, api: apigwv2.HttpApi) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        paths = [f"$default/{route.method}{route.path.replace('{lead_id}', '*')}" for route in ROUTES if route.iam]
        routes = [stack.format_arn(service="execute-api", resource=api.api_id, resource_name=path) for path in paths]
        self.policy = iam.ManagedPolicy(
            self,
            "ConsumerPolicy",
            description="Attach to the role or user of sales tooling: poll hot leads, look leads up, send feedback",
            statements=[
                iam.PolicyStatement(
                    actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                             "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                    resources=[queue.queue_arn],
                ),
                iam.PolicyStatement(actions=["execute-api:Invoke"], resources=routes),
            ],
        )
        api_id = stack.get_logical_id(api.node.default_child)  # type: ignore[arg-type]
        for path in paths:
            if "*" in path:
                acknowledge(
                    Validations.of(self.policy),
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                    f"<{api_id}>/{path}]",
                    "The wildcard is the lead id path parameter: sales tooling may look up and give feedback on "
                    "any lead, and only on the sales routes.",
                )
