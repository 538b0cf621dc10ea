"""The CDK app: `cdk synth` / `cdk deploy` run this (see cdk.json). cdk-nag checks every synth."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import NurtureStack


def build_app(context: dict[str, object] | None = None) -> tuple[App, NurtureStack]:
    app = App(context=context)
    stack = NurtureStack(app, str(app.node.try_get_context("nurture:stackName") or "Nurture"))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
