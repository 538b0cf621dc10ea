"""Which Nurture a CLI command talks to: the running local system by default, or a deployed stack."""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3

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
    pass


@dataclass(frozen=True)
class Target:
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


def stack_target(stack: str, region: str, config_dir: str) -> Target:
    cloudformation = boto3.session.Session(region_name=region).client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        raise TargetNotFound(f"Stack {stack} in {region}: {error.response['Error']['Message']}") from error
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
    }
    return Target(f"stack {stack} in {region}", environment, outputs[OUTPUT_API_URL])
