"""The CDK app: `cdk synth` / `cdk deploy` run this (see cdk.json). cdk-nag (AWS Solutions and
Serverless rules) checks every synth."""

from __future__ import annotations

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra.settings import DeploySettings
from infra.stack import NurtureStack


def build_app(context: dict[str, object] | None = None) -> tuple[App, NurtureStack]:
    app = App(context=context)
    settings = DeploySettings.from_context(app.node)
    stack = NurtureStack(app, settings.stack_name, settings)
    # Every resource says which deployment it belongs to (cost reports, console filters).
    Tags.of(app).add("nurture:environment", settings.environment)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
