"""cdk-nag acknowledgements: every one carries the reason it is safe."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations


def acknowledge(validations: Validations, rule: str, reason: str) -> None:
    validations.acknowledge(Acknowledgment(id=rule, reason=reason))
