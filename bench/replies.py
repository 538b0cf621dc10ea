"""Replies: how soon a reply is recorded on its lead and its owner told, on the local runtime."""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, TypeVar

from bench.calls import REPO
from bench.scoring import median_and_p99

if TYPE_CHECKING:
    from nurture.local.runtime import LocalSystem

T = TypeVar("T")


LEADS = 30


def reply_latency(leads: int = LEADS) -> tuple[tuple[float, float], tuple[float, float], int]:
    """(median and p99 seconds from the reply's S3 put to its `email_reply` stored, the same to its owner's signed
    `lead.replied` webhook arriving, misses). Each lead asked for a demo first (handed off: its team lead is told of
    a reply at once); the reply is to an email signed for it, as `nurture reply` sends one."""
    from nurture.local.runtime import LocalSystem, free_port
    from tests.local_system import wait_for  # before the system starts: importing the tests resets the environment

    os.environ["NURTURE_STATE_DIR"] = tempfile.mkdtemp(prefix="nurture-bench-")
    system = LocalSystem(REPO / "config", port=free_port("127.0.0.1"))
    system.start()
    try:
        timed = [_one_reply(system, n, wait_for) for n in range(leads)]
    finally:
        system.stop()
    done = [times for times in timed if times is not None]
    return (median_and_p99([stored for stored, _ in done]), median_and_p99([told for _, told in done]),
            leads - len(done))


def _one_reply(system: LocalSystem, n: int, wait_for: Callable[..., Any]) -> tuple[float, float] | None:
    """(seconds to the reply stored, to its owner told) for one lead; None when a step never happened."""
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.adapters.token_keys import token_signer
    from nurture.domain.clock import utc_now
    from nurture.domain.text import email_key
    from nurture.local.replies import receive, reply_message

    address = f"reply{n}@example.com"
    body = json.dumps({"email": address, "name": "R", "company": f"C{n}", "country": "US", "phone": "03-0000-0000",
                       "consent": True}).encode()
    request = urllib.request.Request(f"{system.gateway_url}/v1/forms/demo", data=body,
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()  # the answer never names the lead
    lead_id = DynamoLeadStore(system.resources.table_name).find_lead_id(email_key(address))
    if lead_id is None or not _waited(wait_for, lambda: _handed_off(system, lead_id)):
        return None
    sent = EmailMessage()
    sent["From"], sent["To"], sent["Subject"] = "news@nurture.example", address, "ご案内"
    sent["Reply-To"] = token_signer(system.resources.signing_key_parameter).reply_address(
        lead_id, f"{n:024x}", system.resources.reply_domain)
    sent.set_content("ご案内です。")
    began = time.time()
    receive(reply_message(sent, "お見積もりをお願いします。", utc_now()), system.resources)
    stored = time.time() - began
    posts = _waited(wait_for, lambda: [post for post in system.webhooks.received()
                             if post.event == "lead.replied" and post.json()["handoff"]["lead_id"] == lead_id])
    return (stored, posts[0].at - began) if posts else None


def _handed_off(system: LocalSystem, lead_id: str) -> bool:
    from nurture.adapters.lead_store import DynamoLeadStore

    profile = DynamoLeadStore(system.resources.table_name).profile(lead_id, "stage")
    return bool(profile and profile.get("stage") == "handed_off")


def _waited(wait_for: Callable[..., Any], found: Callable[[], T], seconds: float = 15) -> T | None:
    """`found`'s first truthy answer, asked every 10 ms (a latency is timed); None when none came: a miss."""
    try:
        answer: T = wait_for(found, seconds, every=0.01)
    except AssertionError:
        return None
    return answer


def markdown(latency: tuple[tuple[float, float], tuple[float, float], int]) -> list[str]:
    (stored_median, stored_p99), (told_median, told_p99), misses = latency
    return [
        "## Replies",
        "",
        "- A reply to a handed-off lead, from its S3 put (as SES receiving stores it), on the local runtime, over",
        f"  {LEADS} leads: its `email_reply` stored **median {stored_median:.2f} s, p99 {stored_p99:.2f} s**; its",
        f"  owner's signed `lead.replied` webhook arriving **median {told_median:.2f} s, p99 {told_p99:.2f} s**",
        f"  ({misses} missed). The function reads the message from S3, the send marker and the lead, writes the",
        "  activity and queues the owner's alerts; the local notifier polls its queue every 0.2 s.",
    ]


if __name__ == "__main__":
    print("\n".join(markdown(reply_latency())))
