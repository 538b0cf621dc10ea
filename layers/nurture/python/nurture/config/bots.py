"""Typed model of config/bots.yaml: what marks an email open or click as a machine's, not a person's."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from nurture.config.records import Check, record, setting


def _networks(blocks: list[str]) -> list[str]:
    bad = []
    for block in blocks:
        try:
            ipaddress.ip_network(block, strict=False)
        except ValueError:
            bad.append(block)
    if bad:
        raise ValueError(f"not CIDR blocks: {', '.join(bad)}")
    return blocks


@record
class BotRules:
    click_seconds_after_send: float = setting(
        default=10, ge=0, le=600, description="a click this soon after the email went out is a security scanner")
    open_seconds_after_send: float = setting(
        default=2, ge=0, le=600, description="an open this soon is a prefetch (Apple Mail Privacy Protection)")
    click_burst_seconds: float = setting(
        default=1, ge=0, le=60, description="different links of one message clicked this close together: a scanner")
    scanner_user_agents: list[str] = setting(default_factory=list, description="substrings, case-insensitive")
    machine_open_user_agents: list[str] = setting(default_factory=list, description="image proxies that prefetch")
    scanner_networks: Annotated[list[str], Check(_networks)] = setting(
        default_factory=list, description="CIDR blocks of scanners and previewers")
