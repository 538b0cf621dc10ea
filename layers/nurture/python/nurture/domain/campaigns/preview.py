"""A campaign as its members would read it, for a sample lead: each language and each A/B variant's subject
(the console's preview), and the sample lead a test send to a seed address uses."""

from __future__ import annotations

import secrets
from typing import Any

from nurture.config import NurtureConfig
from nurture.config.campaigns import Campaign
from nurture.domain.campaigns.ab import LETTERS
from nurture.domain.campaigns.sending import Variant, campaign_template
from nurture.domain.emails import Links, render_email
from nurture.domain.tokens import TokenSigner

LANGUAGES = ("ja", "en")
PREVIEW_ADDRESS = "sample@example.com"  # reserved for documentation (RFC 2606): never a person's


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
