"""The HTTP API (payload 2.0) with the public routes of nurture.topology.ROUTES."""

from __future__ import annotations

import json
from typing import cast

import jsii
from aws_cdk import RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.function import NurtureFunction, construct_name
from infra.constructs.nag import acknowledge
from nurture.topology import ROUTES, THROTTLES

# One JSON object per request: what an operator needs to trace a request, no bodies or headers.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId", "time": "$context.requestTime", "ip": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey", "status": "$context.status", "protocol": "$context.protocol",
    "responseLength": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


# The stage's default steady and burst limits. Each route's throttle class (nurture.topology.THROTTLES) replaces
# them for that route, so no class may go above them.
RATE_LIMIT = 200
BURST_LIMIT = 400


class PublicApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, functions: dict[str, NurtureFunction],
                 log_retention: logs.RetentionDays, console_authorizer: apigwv2.IHttpRouteAuthorizer,
                 access_log: str = "infrequent") -> None:
        super().__init__(scope, construct_id)
        # CORS is answered by the functions from config/api.yaml, so there is one allowlist.
        self.api = apigwv2.HttpApi(self, "HttpApi", description="Nurture public API", create_default_stage=False)
        access_logs = None
        if access_log != "off":
            access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention,
                                        removal_policy=RemovalPolicy.DESTROY,
                                        log_group_class=logs.LogGroupClass.INFREQUENT_ACCESS
                                        if access_log == "infrequent" else logs.LogGroupClass.STANDARD)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=_AccessLogs(apigwv2.LogGroupLogDestination(access_logs)) if access_logs else None,
        )
        if access_logs is None:
            for rule in ("AwsSolutions-APIG1", "Serverless-APIGWAccessLogging"):
                acknowledge(Validations.of(self.stage), rule,
                            "nurture:accessLog=off: the operator chose no access log; each function logs its own "
                            "requests (ids, never personal data).")
        integrations_by_function = {
            name: integrations.HttpLambdaIntegration(f"{construct_name(name)}Integration", function.function)
            for name, function in functions.items()
        }
        iam_authorizer = authorizers.HttpIamAuthorizer()
        for route in ROUTES:
            routes = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=integrations_by_function[route.function],
                # Sales tooling signs its requests (SigV4); the console's users send Cognito's ID token; everything
                # else is called by anonymous browsers.
                authorizer=iam_authorizer if route.iam else console_authorizer if route.signed_in else None,
            )
            for added in routes:
                # The stage's setting for a route CloudFormation has not made yet would fail the stage.
                self.stage.node.add_dependency(added)
                if not route.iam and not route.signed_in:
                    acknowledge(
                        Validations.of(added),
                        "AwsSolutions-APIG4",
                        "Public by design: web forms, tracking beacons and email links are posted by anonymous "
                        "browsers; CORS preflights carry no credentials. Abuse is bounded by per-route throttles, "
                        "reserved concurrency, body limits and the honeypot (and, with nurture:waf, a rate limit per "
                        "address).",
                    )
        # Each route's own steady and burst limits, from its throttle class.
        stage = cast(apigwv2.CfnStage, self.stage.node.default_child)
        stage.route_settings = {
            route.route_key: {"ThrottlingRateLimit": THROTTLES[route.throttle].rate,
                              "ThrottlingBurstLimit": THROTTLES[route.throttle].burst}
            for route in ROUTES
        }

    @property
    def url(self) -> str:
        return self.stage.url
