"""A campaign as its members would read it, for a sample lead: each language and each A/B variant's subject
(the console's preview), and its test send to one of its seed addresses (the CLI's, and the sender's for the
console)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

import msgspec
from msgspec.structs import replace

from nurture.config import NurtureConfig
from nurture.config.campaigns import Campaign
from nurture.domain.campaigns.ab import LETTERS
from nurture.domain.campaigns.lifecycle import CampaignRefused, campaign_of
from nurture.domain.campaigns.sending import Variant, campaign_template
from nurture.domain.emails import Links, render_email
from nurture.domain.messages import Id, Message
from nurture.domain.sending import Composer
from nurture.domain.text import InvalidEmail, normalize_email
from nurture.domain.tokens import TokenSigner

LANGUAGES = ("ja", "en")
PREVIEW_ADDRESS = "sample@example.com"  # reserved for documentation (RFC 2606): never a person's
TEST_PREFIX = {"ja": "[テスト送信] ", "en": "[TEST] "}


class CampaignTestMessage(Message, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A send-queue message: send this campaign's test to this seed address (asked for in the console)."""

    kind: Literal["campaign_test"] = "campaign_test"
    campaign_id: Id
    to: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    language: Literal["ja", "en"]
    config_version: Annotated[int, msgspec.Meta(ge=1)]


def sample_lead(address: str, language: str) -> dict[str, Any]:
    return {"email": address, "name": "テスト" if language == "ja" else "Test", "company": "テスト株式会社",
            "language": language}


def variants(campaign: Campaign) -> list[Variant | None]:
    """An A/B test's every variant, so whoever checks sees each subject; None without a test."""
    return [Variant(n, in_test=True) for n in range(len(campaign.ab_test.subjects))] if campaign.ab_test else [None]


def previews(config: NurtureConfig, campaign: Campaign) -> list[dict[str, str | None]]:
    """The subject and text of each language and variant, rendered for a sample lead. Its links are signed with
    a key made for this preview and thrown away: they lead nowhere and name no lead."""
    signer = TokenSigner(secrets.token_bytes(32))
    shown = []
    for variant in variants(campaign):
        template = campaign_template(campaign, config.templates, variant)
        for language in LANGUAGES:
            links = Links("https://preview.invalid", signer, "preview", "preview", None, None, campaign.type)
            email = render_email(template, language, sample_lead(PREVIEW_ADDRESS, language), links, False,
                                 config.rendered_custom_fields, config.sequences.sender)
            preview = {"language": email.language, "variant": LETTERS[variant.index] if variant else None,
                       "subject": email.subject, "text": email.text}
            if preview not in shown:  # a template in one language only: the other falls back to it
                shown.append(preview)
    return shown


def seed_address(campaign_id: str, campaign: Campaign, address: str) -> str:
    """The address, normalized, if it is one of the campaign's seeds: a test goes nowhere else."""
    try:
        normalized = normalize_email(address)
    except InvalidEmail:
        normalized = ""
    if normalized not in campaign.seeds:
        raise CampaignRefused(f"{address} is not a seed of {campaign_id}: add it to its seeds and push "
                              f"(seeds: {', '.join(campaign.seeds) or 'none'})")
    return normalized


def proof_emails(config: NurtureConfig, campaign_id: str, address: str, language: str, composer: Composer,
                now: datetime) -> Iterator[tuple[str, bytes]]:
    """Each test email to a seed: (its variant's letter or "", the MIME message), rendered for a sample lead with
    the seed's address, each subject marked as a test; recorded on no lead, opening nothing (no pixel), its links
    naming no lead, its replies going to the From address (a signed Reply-To would name a lead). Raises
    CampaignRefused for an unknown campaign or an address that is not a seed."""
    campaign = campaign_of(config.campaigns, campaign_id)
    seed = seed_address(campaign_id, campaign, address)
    composer = replace(composer, open_pixel=False, reply_domain="")  # a reply to a test goes to the From address
    for variant in variants(campaign):
        letter = LETTERS[variant.index] if variant else ""
        marked = campaign_template(campaign, config.templates, variant).with_subjects(partial(_test_subject, letter))
        yield letter, composer.compose("test", sample_lead(seed, language), marked, "test", now,
                                       subscription_type=campaign.type)


def _test_subject(letter: str, language: str, subject: str) -> str:
    """A test's subject: marked as a test, with the A/B variant's letter."""
    label = f" {letter.upper()}" if letter else ""
    return TEST_PREFIX[language].replace("]", f"{label}]", 1) + subject
