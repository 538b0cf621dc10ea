"""Is an email open or click a person's, or a machine's? Pure rules over what one hit shows.

Security scanners follow every link of an email within seconds of delivery; link previewers and
scripts announce themselves in the user agent; a link hidden from people (the honeypot) is followed
only by machines; Apple Mail Privacy Protection and image proxies fetch the pixel on delivery. A
machine's hit is still stored (with `bot: true` and the reason) but scores nothing.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import cache
from typing import Literal

from nurture.config.bots import BotRules

HONEYPOT = "honeypot"  # the link name (`t` claim) of the hidden link every email carries
Kind = Literal["open", "click"]


def classify(kind: Kind, at: datetime, sent_at: datetime | None, user_agent: str | None, ip: str | None,
             rules: BotRules, link: str | None = None, method: str = "GET") -> str | None:
    """The reason it is a machine, or None for a person."""
    agent = (user_agent or "").lower()
    if kind == "click" and link == HONEYPOT:
        return "honeypot_link"
    if method.upper() == "HEAD":
        return "head_request"
    if not agent:
        return "no_user_agent"
    if any(marker.lower() in agent for marker in rules.scanner_user_agents):
        return "scanner_user_agent"
    if kind == "open" and any(marker.lower() in agent for marker in rules.machine_open_user_agents):
        return "image_proxy"
    if ip and _in_networks(ip, tuple(rules.scanner_networks)):
        return "scanner_network"
    if sent_at is not None:
        seconds = (at - sent_at).total_seconds()
        limit = rules.click_seconds_after_send if kind == "click" else rules.open_seconds_after_send
        if 0 <= seconds < limit:
            return "too_soon_after_send" if kind == "click" else "prefetch_on_delivery"
    return None


@cache
def _networks(blocks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(block, strict=False) for block in blocks)


def _in_networks(ip: str, blocks: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(blocks))
