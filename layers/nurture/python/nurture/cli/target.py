"""Which Nurture a CLI command talks to: the running local system by default, or a deployed stack."""

from __future__ import annotations

import os

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError, ProfileNotFound
from msgspec import Struct

from nurture.cli.aws_setup import CREDENTIAL_ERRORS, aws_setup_problem
from nurture.local.resources import LocalResources
from nurture.local.runtime import DEPLOYED_KEY, FAKE_CREDENTIALS
from nurture.local.state import LocalState
from nurture.topology import (
    OUTPUT_API_URL,
    OUTPUT_AUDIENCE_QUEUE,
    OUTPUT_CONFIG_BUCKET,
    OUTPUT_CONFIGURATION_SET,
    OUTPUT_CONSOLE_BUCKET,
    OUTPUT_CONSOLE_CLIENT,
    OUTPUT_CONSOLE_URL,
    OUTPUT_DEPLOYED_CONFIG,
    OUTPUT_HANDOFF_QUEUE,
    OUTPUT_MATERIALS_BUCKET,
    OUTPUT_SENDER_ADDRESS,
    OUTPUT_SIGNING_KEY_PARAMETER,
    OUTPUT_TABLE,
    OUTPUT_WEBHOOK_PARAMETERS,
)


class TargetNotFound(RuntimeError):
    """No system to talk to: the local one is not running, the stack is unknown or is not Nurture's."""


class AwsSetupProblem(TargetNotFound):
    """The AWS setup stops every call: no usable credentials, an unknown profile, no region."""


# Set by the environment, they would sign every call after the stack's lookup whatever --profile says.
ENVIRONMENT_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class Target(Struct, frozen=True):
    description: str
    environment: dict[str, str]
    api_url: str

    def who(self, by: str | None = None) -> str:
        """Who a change is recorded as made by: `by` if given; on a deployed stack, the caller's AWS identity;
        on the local system, the machine's user (the emulator's identity says nothing)."""
        if by:
            return by
        if "AWS_ENDPOINT_URL" in self.environment:
            import getpass

            return getpass.getuser()
        from nurture.adapters.aws import client

        arn: str = client("sts").get_caller_identity()["Arn"]
        return arn

    def apply(self) -> None:
        if "AWS_ENDPOINT_URL" not in self.environment:
            os.environ.pop("AWS_ENDPOINT_URL", None)  # a deployed stack: the real AWS endpoints
        if "AWS_PROFILE" in self.environment:  # --profile: its credentials, not keys the shell exported
            for variable in ENVIRONMENT_KEYS:
                os.environ.pop(variable, None)
        os.environ.update(self.environment)
        from nurture.adapters.aws import reset_clients
        from nurture.settings import reload

        reset_clients()
        reload()


def local_target(config_dir: str) -> Target:
    state = LocalState.load()
    if state is None or not state.is_running():
        raise TargetNotFound("No local system is running here: start one with `make run` (or `nurture local`), "
                             "or name a deployed stack with --stack.")
    resources = LocalResources(table_name=state.table_name, signing_key_parameter=state.signing_key_parameter,
                               region=state.region)
    environment = {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": state.emulator_url,
                   **resources.environment(config_dir, state.gateway_url),
                   "DEPLOYED_CONFIG_URL": f"s3://{resources.config_bucket}/{DEPLOYED_KEY}"}
    return Target(f"local system at {state.gateway_url}", environment, state.gateway_url)


def stack_target(stack: str, region: str | None, config_dir: str, profile: str | None = None) -> Target:
    """The deployed `stack`, found as the AWS CLI finds things: `profile` (else AWS_PROFILE, else the default
    credentials), `region` (else AWS_REGION, AWS_DEFAULT_REGION or the profile's region)."""
    try:
        # AWS_REGION first, as the AWS CLI and the SDKs but boto3 read it
        session = boto3.session.Session(profile_name=profile, region_name=region or os.environ.get("AWS_REGION"))
    except ProfileNotFound as error:
        raise AwsSetupProblem(f"{error}: `aws configure list-profiles` lists the profiles there are") from error
    region = session.region_name
    if not region:
        raise AwsSetupProblem("No AWS region: pass --region, or set AWS_REGION, or give the profile a region")
    cloudformation = session.client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except (ClientError, *CREDENTIAL_ERRORS) as error:
        problem = aws_setup_problem(error)
        if problem is not None:
            raise AwsSetupProblem(problem) from error
        if isinstance(error, ClientError):
            raise TargetNotFound(f"Stack {stack} in {region}: {error.response['Error'].get('Message', '')}") from error
        raise
    except EndpointConnectionError as error:
        raise TargetNotFound(f"CloudFormation in {region} cannot be reached: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [name for name in (OUTPUT_TABLE, OUTPUT_SIGNING_KEY_PARAMETER, OUTPUT_API_URL) if name not in outputs]
    if missing:
        raise TargetNotFound(f"Stack {stack} lacks the outputs {', '.join(missing)}: is it a Nurture stack "
                             "deployed with this version?")
    resources = LocalResources(table_name=outputs[OUTPUT_TABLE],
                               signing_key_parameter=outputs[OUTPUT_SIGNING_KEY_PARAMETER], region=region)
    environment = {
        **resources.environment(config_dir, outputs[OUTPUT_API_URL]),
        "HANDOFF_QUEUE_URL": outputs.get(OUTPUT_HANDOFF_QUEUE, ""),
        "CONFIG_BUCKET": outputs.get(OUTPUT_CONFIG_BUCKET, ""),
        "MATERIALS_BUCKET": outputs.get(OUTPUT_MATERIALS_BUCKET, ""),
        "AUDIENCE_QUEUE_URL": outputs.get(OUTPUT_AUDIENCE_QUEUE, ""),
        "SENDER_ADDRESS": outputs.get(OUTPUT_SENDER_ADDRESS, ""),
        "SES_CONFIGURATION_SET": outputs.get(OUTPUT_CONFIGURATION_SET, ""),
        "WEBHOOK_PARAMETERS": outputs.get(OUTPUT_WEBHOOK_PARAMETERS, ""),
        "DEPLOYED_CONFIG_URL": outputs.get(OUTPUT_DEPLOYED_CONFIG, ""),
        "CONSOLE_BUCKET": outputs.get(OUTPUT_CONSOLE_BUCKET, ""),
        "CONSOLE_CLIENT_ID": outputs.get(OUTPUT_CONSOLE_CLIENT, ""),
        "CONSOLE_URL": outputs.get(OUTPUT_CONSOLE_URL, ""),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_REGION": region,
        **({"AWS_PROFILE": profile} if profile else {}),
    }
    return Target(f"stack {stack} in {region}", environment, outputs[OUTPUT_API_URL])
