"""Nurture's buckets: never public, encrypted at rest, reachable over TLS only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import RemovalPolicy, Stack, Validations
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.nag import acknowledge

if TYPE_CHECKING:
    from infra.constructs.function import NurtureFunction


def private_bucket(scope: Construct, construct_id: str, **settings: Any) -> s3.Bucket:
    return s3.Bucket(scope, construct_id, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                     encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, **settings)


def marketer_bucket(scope: Construct, construct_id: str, audit: str) -> s3.Bucket:
    """Marketer content (config versions, materials): versioned, so a file overwritten by mistake is kept, and
    retained when the stack goes. `audit`: why it needs no access log."""
    bucket = private_bucket(scope, construct_id, versioned=True, removal_policy=RemovalPolicy.RETAIN)
    acknowledge(Validations.of(bucket), "AwsSolutions-S1", audit)
    return bucket


def acknowledge_prefix(function: NurtureFunction, bucket: s3.IBucket, prefix: str, reason: str) -> None:
    """cdk-nag's acknowledgement of a function's grant on every key of `bucket` under `prefix`."""
    bucket_id = Stack.of(bucket).get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    acknowledge(Validations.of(function.role), f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]", reason)
