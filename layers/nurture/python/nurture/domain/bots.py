"""Is an email open or click a person's, or a machine's? Pure rules over what one hit shows.

Security scanners follow every link of an email within seconds of delivery; link previewers and
scripts announce themselves in the user agent; a link hidden from people (the honeypot) is followed
only by machines; Apple Mail Privacy Protection and image proxies fetch the pixel on delivery; a
scanner opening every link of a message within a second gives itself away by the burst, which only
the scorer can see (it sees the lead's clicks together). A machine's hit is still stored (with
`bot: true` and the reason) but scores nothing.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from datetime import datetime
from functools import cache
from typing import Any, Literal

from msgspec import Struct

from nurture.config.bots import BotRules

HONEYPOT = "honeypot"  # the link name (`t` claim) of the hidden link every email carries
CLICK_BURST = "click_burst"
Kind = Literal["open", "click"]


def classify(kind: Kind, at: datetime, sent_at: datetime | None, user_agent: str | None, ip: str | None,
             rules: BotRules, link: str | None = None) -> str | None:
    """The reason it is a machine, or None for a person. (A scanner's HEAD request never gets here: the
    API's tracking routes are GET only, so API Gateway answers it itself and nothing is recorded.)"""
    agent = (user_agent or "").lower()
    if kind == "click" and link == HONEYPOT:
        return "honeypot_link"
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


def bot_data(reason: str | None) -> dict[str, Any]:
    """How a machine's hit is marked on its activity (nothing for a person's)."""
    return {"bot": True, "bot_reason": reason} if reason else {}


class ClickHit(Struct, frozen=True):
    event_id: str
    at: datetime
    message_id: str
    link: str  # the link's name in our emails, else its URL


def click_bursts(clicks: list[ClickHit], seconds: float) -> set[str]:
    """Clicks on different links of one message within `seconds` of each other: a scanner following
    every link. The same link twice is a person's double click, not a burst."""
    by_message: dict[str, list[ClickHit]] = defaultdict(list)
    for click in clicks:
        by_message[click.message_id].append(click)
    burst: set[str] = set()
    for hits in by_message.values():
        hits.sort(key=lambda hit: hit.at)
        for index, first in enumerate(hits):
            for later in hits[index + 1:]:
                if (later.at - first.at).total_seconds() > seconds:
                    break
                if later.link != first.link:
                    burst |= {first.event_id, later.event_id}
    return burst


@cache
def _networks(blocks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(block, strict=False) for block in blocks)


def _in_networks(ip: str, blocks: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(blocks))
