"""Nurture's stack: composes one construct per concern."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import paths
from infra.constructs.api_function import ApiFunction
from infra.constructs.data import Data
from infra.constructs.public_api import PublicApi
from infra.constructs.shared_code import SharedCode
from infra.constructs.tracking_key import TrackingKey
from nurture.topology import FUNCTIONS, OUTPUT_API_URL, OUTPUT_TABLE, OUTPUT_TOKEN_SECRET

# DynamoDB actions each function uses, and nothing more.
FORMS_TABLE_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                       "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchWriteItem"]
TRACKING_TABLE_ACTIONS = ["dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]


class NurtureStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id, description="Nurture: B2B lead nurturing")
        dependencies = Path(str(self.node.try_get_context("nurture:dependenciesLayer") or paths.DEPENDENCIES_LAYER))
        data = Data(self, "Data")
        key = TrackingKey(self, "TrackingKey")
        code = SharedCode(self, "SharedCode", dependencies)
        environment = {"TABLE_NAME": data.table.table_name, "TOKEN_SECRET_ID": key.secret.secret_arn}
        functions = {name: ApiFunction(self, f"{name.title()}Function", spec, code, environment)
                     for name, spec in FUNCTIONS.items()}
        functions["forms"].allow(FORMS_TABLE_ACTIONS, [data.table.table_arn])
        functions["tracking"].allow(TRACKING_TABLE_ACTIONS, [data.table.table_arn])
        functions["tracking"].allow(["secretsmanager:GetSecretValue"], [key.secret.secret_arn])
        for function in functions.values():
            function.allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"])
        api = PublicApi(self, "Api", functions)

        CfnOutput(self, OUTPUT_API_URL, value=api.url, description="Base URL web forms post to")
        CfnOutput(self, OUTPUT_TABLE, value=data.table.table_name)
        CfnOutput(self, OUTPUT_TOKEN_SECRET, value=key.secret.secret_arn)
