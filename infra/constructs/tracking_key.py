"""The secret that signs tracking tokens (open pixel, click and unsubscribe links)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Validations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.nag import acknowledge


class TrackingKey(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="HMAC-SHA256 key for Nurture tracking tokens",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            # Links in emails already sent must keep working after a stack update.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            Validations.of(self.secret),
            "AwsSolutions-SMG4",
            "Rotated by hand with `nurture keys rotate`, which keeps the previous keys verifying the links they "
            "signed: a scheduled rotation could not keep that keyring (docs/decisions.md, decision 12).",
        )
