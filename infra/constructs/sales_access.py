"""The managed policies integrations attach, each given apart: sales tooling's (consume hot leads), erasure's, and
a shop's or an ERP's (record purchases)."""

from __future__ import annotations

import re

from aws_cdk import Aws, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge
from nurture.topology import ROUTES, ApiRoute


def _is_erasure(route: ApiRoute) -> bool:
    """DELETE /v1/leads/{lead_id}: the one signed route that deletes."""
    return route.iam and route.method == "DELETE"


def _is_purchases(route: ApiRoute) -> bool:
    """POST /v1/purchases: orders from a shop or an ERP, which needs nothing else of the sales API."""
    return route.iam and route.path == "/v1/purchases"


class SalesAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, queue: sqs.IQueue, api: apigwv2.HttpApi) -> None:
        super().__init__(scope, construct_id)
        self._api = api
        self.consumer = iam.ManagedPolicy(
            self,
            "ConsumerPolicy",
            description="Attach to the role or user of sales tooling: poll hot leads, look leads up, send feedback, "
                        "give leads another owner, set subscriptions, list call tasks and record calls",
            statements=[
                iam.PolicyStatement(
                    actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                             "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                    resources=[queue.queue_arn],
                ),
                self._invoke([route for route in ROUTES
                              if route.iam and not _is_erasure(route) and not _is_purchases(route)]),
            ],
        )
        self.erasure = iam.ManagedPolicy(
            self,
            "ErasurePolicy",
            description="Attach to whoever answers erasure requests: delete a lead and its activity",
            statements=[self._invoke([route for route in ROUTES if _is_erasure(route)])],
        )
        self.purchases = iam.ManagedPolicy(
            self,
            "PurchasesPolicy",
            description="Attach to the shop or ERP that sends customers' orders: record purchases, nothing else",
            statements=[self._invoke([route for route in ROUTES if _is_purchases(route)])],
        )

    def _invoke(self, routes: list[ApiRoute]) -> iam.PolicyStatement:
        """execute-api:Invoke on these routes of the stage, any lead or task for the ones that take its id."""
        paths = [f"$default/{route.method}{re.sub(r'{[a-z_]+}', '*', route.path)}" for route in routes]
        # Pseudo parameters rather than the stack's region and account, so the ARN (and the finding cdk-nag
        # names below) reads the same whether the stack has an explicit environment or not.
        prefix = f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{self._api.api_id}"
        api_id = Stack.of(self).get_logical_id(self._api.node.default_child)  # type: ignore[arg-type]
        for path in paths:
            if "*" in path:
                acknowledge(
                    Validations.of(self),
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                    f"<{api_id}>/{path}]",
                    "The wildcard is the lead or task id path parameter: the route applies to any lead or task, and "
                    "the policy grants only the sales routes it names.",
                )
        return iam.PolicyStatement(actions=["execute-api:Invoke"], resources=[f"{prefix}/{path}" for path in paths])
