"""Render a step email: personalized, escaped, every link signed, unsubscribable in one click.

Templates are marketers' code, so they run in Jinja2's sandbox with autoescape on for HTML; any
error stops the send (RenderFailed) rather than sending half an email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nurture.config.templates import EmailTemplate
from nurture.domain.bots import HONEYPOT
from nurture.domain.errors import NurtureError
from nurture.domain.tokens import UNSUBSCRIBE, TokenSigner, click_token, open_token

_HTML_LINK = re.compile(r'(<a\b[^>]*?\bhref\s*=\s*")(https?://[^"]+)(")', re.IGNORECASE)
_TEXT_LINK = re.compile(r"https?://[^\s<>\"']+")
# Fields a template may use; anything else is undefined and renders empty (or its `default`).
PERSONAL_FIELDS = ("name", "company", "title", "department", "industry", "country")
FALLBACK_NAME = {"ja": "ご担当者", "en": "there"}


class RenderFailed(NurtureError):
    """The template could not be rendered: the send stops and the error is recorded on the lead."""


_html = ImmutableSandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_text = ImmutableSandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


def syntax_problems(template: EmailTemplate) -> list[str]:
    """Jinja syntax errors, for `nurture config check`."""
    problems = []
    for language in ("ja", "en"):
        parts = getattr(template, language)
        if parts is None:
            continue
        for part, environment in (("subject", _text), ("html", _html), ("text", _text)):
            try:
                environment.parse(getattr(parts, part))
            except TemplateError as error:
                problems.append(f"{language}.{part}: {error}")
    return problems


@dataclass(frozen=True)
class Links:
    """Where links point and how they are signed, for one message to one lead."""

    api_base: str
    signer: TokenSigner
    lead_id: str
    message_id: str
    sent_at: int | None = None  # epoch seconds: hits right after it are machines'

    def click(self, url: str, link: str | None = None) -> str:
        token = click_token(self.signer, self.lead_id, url, self.message_id, link, self.sent_at)
        return f"{self.api_base}/v1/t/c/{token}"

    def unsubscribe(self) -> str:
        token = self.signer.sign(UNSUBSCRIBE, {"l": self.lead_id, "m": self.message_id})
        return f"{self.api_base}/v1/unsubscribe/{token}"

    def pixel(self) -> str:
        return f"{self.api_base}/v1/t/o/{open_token(self.signer, self.lead_id, self.message_id, self.sent_at)}.gif"


@dataclass(frozen=True)
class RenderedEmail:
    language: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]


def render_email(template: EmailTemplate, language: str, profile: dict[str, Any], links: Links,
                 open_pixel: bool = True) -> RenderedEmail:
    used, parts = template.parts(language)
    unsubscribe_url = links.unsubscribe()
    context = {field: profile.get(field) or "" for field in PERSONAL_FIELDS}
    context["name"] = context["name"] or FALLBACK_NAME[used]
    context["unsubscribe_url"] = unsubscribe_url
    try:
        subject = " ".join(_text.from_string(parts.subject).render(context).split())
        html = _html.from_string(parts.html).render(context)
        text = _text.from_string(parts.text).render(context)
    except Exception as error:  # any failure of marketers' template code stops this send, whole
        raise RenderFailed(f"{type(error).__name__}: {error}") from error
    # Every web link goes through a signed click link; the unsubscribe link stays as it is.
    html_before_links = html
    html = _HTML_LINK.sub(lambda m: m.group(1) + escape(links.click(_unescape(m.group(2)))) + m.group(3)
                          if _unescape(m.group(2)) != unsubscribe_url else m.group(0), html)
    text = _TEXT_LINK.sub(lambda m: links.click(m.group(0)) if m.group(0) != unsubscribe_url else m.group(0), text)
    if unsubscribe_url not in text:
        text += f"\n\n{'配信停止' if used == 'ja' else 'Unsubscribe'}: {unsubscribe_url}\n"
    if escape(unsubscribe_url) not in html:
        label = "配信停止はこちら" if used == "ja" else "Unsubscribe"
        html += f'\n<p><a href="{escape(unsubscribe_url)}">{label}</a></p>'
    # A link no person sees or reaches with the keyboard: whoever follows it is a machine.
    target = next((url for m in _HTML_LINK.finditer(html_before_links)
                   if (url := _unescape(m.group(2))) != unsubscribe_url), links.api_base + "/")
    html += (f'\n<a href="{escape(links.click(target, HONEYPOT))}" style="display:none" aria-hidden="true" '
             f'tabindex="-1"></a>')
    if open_pixel:
        html += f'\n<img src="{escape(links.pixel())}" width="1" height="1" alt="" style="display:none">'
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
    }
    return RenderedEmail(used, subject, html, text, headers)


def _unescape(url: str) -> str:
    return url.replace("&amp;", "&")
