"""The CDK app: `cdk synth` / `cdk deploy` run this (see cdk.json). cdk-nag (AWS Solutions and
Serverless rules) checks every synth."""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct

from infra.constructs.api_domain import domain_certificate, hosted_zone
from infra.constructs.edge import CLOUDFRONT_REGION, WebAcl
from infra.settings import DeploySettings
from infra.stack import ENVIRONMENT_TAG, NurtureStack


def build_app(context: dict[str, object] | None = None) -> tuple[App, NurtureStack]:
    app = App(context=context)
    settings = DeploySettings.from_context(app.node)
    stack = _behind_waf(app, settings) if settings.waf else NurtureStack(app, settings.stack_name, settings)
    # Every resource says which deployment it belongs to (cost reports, console filters).
    Tags.of(app).add(ENVIRONMENT_TAG, settings.environment)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app, stack


def _behind_waf(app: App, settings: DeploySettings) -> NurtureStack:
    """CloudFront takes only a web ACL made in us-east-1: a companion stack there holds it, whatever the region
    of the stack, so every region deploys the same two stacks."""
    target = _target_environment()
    acl_stack = Stack(app, f"{settings.stack_name}WebAcl",
                      env=Environment(account=target.account, region=CLOUDFRONT_REGION),
                      tags={ENVIRONMENT_TAG: settings.environment},
                      description=f"Nurture: the web ACL in front of {settings.stack_name}'s API")
    web_acl = WebAcl(acl_stack, "WebAcl", settings.waf_rate_limit)
    # CloudFront takes its certificate from us-east-1 too: the branded domain's is made beside the ACL.
    certificate = None
    if settings.api_domain:
        zone = hosted_zone(acl_stack, settings.api_hosted_zone_id, settings.api_hosted_zone_name)
        certificate = domain_certificate(Construct(acl_stack, "ApiDomain"), settings.api_domain,
                                         settings.api_certificate_arn, zone)
    return NurtureStack(app, settings.stack_name, settings, web_acl=web_acl, env=target, edge_certificate=certificate)


def _target_environment() -> Environment:
    """The account and region `cdk` deploys to (it sets these from the credentials and the configured region): a
    reference across regions needs both stacks' regions known at synth."""
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    if not account or not region:
        raise ValueError("nurture:waf needs the target account and region: run `cdk` with AWS credentials and a "
                         "region, or set CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION")
    return Environment(account=account, region=region)


if __name__ == "__main__":
    build_app()[0].synth()
