"""Telling a person's open or click from a machine's."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from nurture.config import load_config
from nurture.domain.bots import HONEYPOT, classify
from tests.conftest import CONFIG_DIR

RULES = load_config(CONFIG_DIR).bots
SENT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.mark.parametrize(("kind", "after", "agent", "ip", "link", "reason"), [
    ("click", timedelta(minutes=3), BROWSER, "203.0.113.9", None, None),  # a person
    ("click", timedelta(seconds=2), BROWSER, "203.0.113.9", None, "too_soon_after_send"),
    ("click", timedelta(hours=2), BROWSER, "203.0.113.9", HONEYPOT, "honeypot_link"),
    ("click", timedelta(hours=2), "Mozilla/5.0 (compatible; Barracuda Sentinel)", None, None, "scanner_user_agent"),
    ("click", timedelta(hours=2), "Slackbot-LinkExpanding 1.0", None, None, "scanner_user_agent"),
    ("click", timedelta(hours=2), None, None, None, "no_user_agent"),
    ("open", timedelta(seconds=1), "Mozilla/5.0", None, None, "prefetch_on_delivery"),
    ("open", timedelta(hours=1), "Mozilla/5.0 (compatible; YahooMailProxy)", None, None, "image_proxy"),
    ("open", timedelta(hours=1), BROWSER, None, None, None),
])
def test_each_sign_of_a_machine_is_named(kind, after, agent, ip, link, reason):
    assert classify(kind, SENT + after, SENT, agent, ip, RULES, link=link) == reason


def test_a_scanners_network_is_recognized_by_its_cidr_block():
    rules = dataclasses.replace(RULES, scanner_networks=["198.51.100.0/24"])
    assert classify("click", SENT + timedelta(hours=1), SENT, BROWSER, "198.51.100.7", rules) == "scanner_network"
    assert classify("click", SENT + timedelta(hours=1), SENT, BROWSER, "not-an-ip", rules) is None
