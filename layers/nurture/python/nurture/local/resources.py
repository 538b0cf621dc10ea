"""Create Nurture's AWS resources in the emulator, from the same definitions the CDK stack uses."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from nurture.domain.sales.webhooks import WebhookTarget, parameter_value
from nurture.table import TABLE
from nurture.topology import ALERT_QUEUE_RECEIVES, SEND_QUEUE_RECEIVES, ses_events_pattern

REGION = "ap-northeast-1"


@dataclass(frozen=True)
class LocalResources:
    table_name: str = "nurture-local"
    handoff_queue: str = "nurture-handoff.fifo"
    send_queue: str = "nurture-send"
    send_dead_letters: str = "nurture-send-dlq"
    ses_events_queue: str = "nurture-ses-events"
    audience_queue: str = "nurture-audience"
    audience_dead_letters: str = "nurture-audience-dlq"
    alert_queue: str = "nurture-alerts"
    alert_dead_letters: str = "nurture-alerts-dlq"
    webhook_parameters: str = "/nurture-local/webhooks"  # <prefix>/<webhook id>: its URL and signing secret
    ses_events_dead_letters: str = "nurture-ses-events-dlq"
    ses_events_rule: str = "nurture-ses-events"  # on the default bus, as SES publishes only there
    sender_address: str = "news@nurture.example"
    configuration_set: str = "nurture-local"
    signing_key_parameter: str = "/nurture-local/signing-keyring"  # SSM SecureString, as the stack's
    config_bucket: str = "nurture-local-config"
    reply_bucket: str = "nurture-local-replies"  # where `nurture reply` and the outbox put a reply, as SES would
    reply_domain: str = "reply.nurture.example"  # the emails' Reply-To: r+<signed tag>@ here
    materials_bucket: str = "nurture-local-materials"  # download forms' materials, as `cdk deploy` uploads them
    region: str = REGION

    def environment(self, config_dir: str, api_url: str = "http://127.0.0.1:3000") -> dict[str, str]:
        """What the deployed stack sets on each function, pointed at these resources."""
        return {
            "TABLE_NAME": self.table_name,
            "HANDOFF_QUEUE_URL": self.handoff_queue_url,
            "SEND_QUEUE_URL": self.queue_url(self.send_queue),
            "AUDIENCE_QUEUE_URL": self.queue_url(self.audience_queue),
            "ALERT_QUEUE_URL": self.queue_url(self.alert_queue),
            "WEBHOOK_PARAMETERS": self.webhook_parameters,
            "PUBLIC_API_URL": api_url,
            "SENDER_ADDRESS": self.sender_address,
            "SES_CONFIGURATION_SET": self.configuration_set,
            "SIGNING_KEY_PARAMETER": self.signing_key_parameter,
            "NURTURE_CONFIG_DIR": config_dir,
            "CONFIG_BUCKET": self.config_bucket,
            "REPLY_BUCKET": self.reply_bucket,
            "REPLY_DOMAIN": self.reply_domain,
            "MATERIALS_BUCKET": self.materials_bucket,
            # A push reaches the local functions within seconds (AWS: a minute), as the scheduler ticks faster.
            "CONFIG_MAX_AGE_SECONDS": "2",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "POWERTOOLS_SERVICE_NAME": "nurture",
            "POWERTOOLS_METRICS_NAMESPACE": "Nurture",
            # No X-Ray daemon here.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }


    @property
    def handoff_queue_url(self) -> str:
        return self.queue_url(self.handoff_queue)

    @property
    def configuration_set_arn(self) -> str:
        return f"arn:aws:ses:{self.region}:123456789012:configuration-set/{self.configuration_set}"

    def queue_url(self, name: str) -> str:
        """Where the emulator serves a queue (it finds queues by the name in the URL, whatever the host)."""
        return f"https://sqs.{self.region}.amazonaws.com/123456789012/{name}"


def create_resources(resources: LocalResources, session: Any | None = None) -> None:
    """Table (keys, GSIs, stream, TTL), the config, reply and materials buckets, the queues, the SES events rule, the
    SES identity and the signing keyring's parameter, if missing."""
    session = session or boto3.session.Session(region_name=resources.region)
    dynamodb = session.client("dynamodb")
    if resources.table_name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(**TABLE.create_table_kwargs(resources.table_name))
        dynamodb.update_time_to_live(
            TableName=resources.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
        )
    s3 = session.client("s3")
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for bucket in {resources.config_bucket, resources.reply_bucket, resources.materials_bucket} - existing:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": resources.region})
    sqs = session.client("sqs")
    sqs.create_queue(QueueName=resources.handoff_queue,
                     Attributes={"FifoQueue": "true", "VisibilityTimeout": "60"})
    _queue_with_dead_letters(sqs, resources.send_queue, resources.send_dead_letters)
    _queue_with_dead_letters(sqs, resources.audience_queue, resources.audience_dead_letters)
    _queue_with_dead_letters(sqs, resources.alert_queue, resources.alert_dead_letters, ALERT_QUEUE_RECEIVES)
    # SES events: the rule on EventBridge's default bus that sends the configuration set's events to their queue,
    # with the stack's pattern. The emulator routes a matching PutEvents to an SQS target in EventBridge's shape.
    ses_events = _queue_with_dead_letters(sqs, resources.ses_events_queue, resources.ses_events_dead_letters)
    events = session.client("events")
    events.put_rule(Name=resources.ses_events_rule,
                    EventPattern=json.dumps(ses_events_pattern(resources.configuration_set)))
    queue_arn = sqs.get_queue_attributes(QueueUrl=ses_events, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule=resources.ses_events_rule, Targets=[{"Id": "ses-events-queue", "Arn": queue_arn}])
    sesv2 = session.client("sesv2")
    if resources.configuration_set not in sesv2.list_configuration_sets().get("ConfigurationSets", []):
        sesv2.create_configuration_set(ConfigurationSetName=resources.configuration_set)
    sesv2.create_email_identity(EmailIdentity=resources.sender_address)
    # The signing keyring as the stack's custom resource creates it (infra/custom_resources/signing_keyring.py): a
    # SecureString parameter holding a fresh random key, never over one that exists. A key per emulator start, as
    # the stack's is per deployment.
    ssm = session.client("ssm")
    with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(Name=resources.signing_key_parameter, Type="SecureString", Overwrite=False,
                          Tier="Standard", Value=base64.b64encode(secrets.token_bytes(32)).decode("ascii"))


def _queue_with_dead_letters(sqs: Any, name: str, dead_letters_name: str, receives: int = SEND_QUEUE_RECEIVES) -> str:
    """As deployed: a message that keeps failing ends in the DLQ after a few receives."""
    dead_letters = sqs.create_queue(QueueName=dead_letters_name)["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters,
                                                AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url: str = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letters_arn,
                                     "maxReceiveCount": receives})})["QueueUrl"]
    return url


def point_webhooks_at(resources: LocalResources, urls: Mapping[str, str], session: Any | None = None) -> None:
    """Each webhook (and the kintone connection) without a parameter gets one pointing at its local stand-in (the
    receiver's `/_webhooks/<id>`, the local kintone), with a fresh secret, as `nurture webhooks set` would write it."""
    ssm = (session or boto3.session.Session(region_name=resources.region)).client("ssm")
    for webhook_id, url in urls.items():
        value = parameter_value(WebhookTarget(url, secrets.token_urlsafe(32)))
        with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
            ssm.put_parameter(Name=f"{resources.webhook_parameters}/{webhook_id}", Type="SecureString",
                              Overwrite=False, Tier="Standard", Value=value)
