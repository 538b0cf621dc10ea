"""Render a step email: personalized, escaped, every link signed, unsubscribable in one click.

Templates are marketers' code, so they run in Jinja2's sandbox with autoescape on for HTML; any
error stops the send (RenderFailed) rather than sending half an email. Links are signed only where
the template's author wrote them: they are taken from the template's own text (its parsed literal
parts) before any lead value is substituted, so nothing a lead typed ever becomes a signed link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from html import escape, unescape
from typing import Any, Literal

from jinja2 import Template, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from msgspec import Struct

from nurture.config.models import RENDERED_FIELDS
from nurture.config.sequences import SenderIdentity
from nurture.config.subscriptions import InBothLanguages
from nurture.config.templates import EmailTemplate, TemplateParts
from nurture.domain.bots import HONEYPOT
from nurture.domain.errors import NurtureError
from nurture.domain.links import HTML_LINK, TEXT_LINK, trim_text_link
from nurture.domain.text import clean_text, rendered_value
from nurture.domain.tokens import UNSUBSCRIBE, TokenSigner, click_token, open_token

FALLBACK_NAME = {"ja": "ご担当者", "en": "there"}
SIGNED_LINKS = "nurture_links"  # the variable each written link becomes: its signed click link, by position
Part = Literal["subject", "html", "text"]
# A URL running into a template expression: it cannot be signed whole, so it is refused at config check.
_LINK_WITH_EXPRESSION = re.compile(r"https?://[^\s\"'<>{}]*\{[{%]")


class RenderFailed(NurtureError):
    """The template could not be rendered: the send stops and the error is recorded on the lead."""


_html = ImmutableSandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_text = ImmutableSandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


def syntax_problems(template: EmailTemplate) -> list[str]:
    """Jinja syntax errors, and links a template builds from values, for `nurture config check`."""
    problems = []
    for language in ("ja", "en"):
        parts = getattr(template, language)
        if parts is None:
            continue
        for part in ("subject", "html", "text"):
            source = getattr(parts, part)
            problems += [f"{language}.{part}: {problem}" for problem in compile_problems(part, source)]
            if part != "subject" and _LINK_WITH_EXPRESSION.search(source):
                problems.append(f"{language}.{part}: a link is built from a template value; write each link "
                                f"whole (only links written in the template are signed and tracked)")
    return problems


def compile_problems(part: str, source: str) -> list[str]:
    """Why `source` does not compile as a template's `part` (subject, html or text), if it does not."""
    try:
        _compiled(part, source)
    except TemplateError as error:
        return [str(error)]
    return []


class Links(Struct, frozen=True):
    """Where links point and how they are signed, for one message to one lead."""

    api_base: str
    signer: TokenSigner
    lead_id: str
    message_id: str
    sent_at: int | None = None  # epoch seconds: hits right after it are machines'
    counter: str | None = None  # an A/B test's variant: its people's clicks are counted
    subscription_type: str | None = None  # what one-click leaves: the email's type (None: everything)

    def click(self, url: str, link: str | None = None) -> str:
        token = click_token(self.signer, self.lead_id, url, self.message_id, link, self.sent_at, self.counter)
        return f"{self.api_base}/v1/t/c/{token}"

    def unsubscribe(self) -> str:
        claims = {"l": self.lead_id, "m": self.message_id}
        token = self.signer.sign(UNSUBSCRIBE, {**claims, "t": self.subscription_type} if self.subscription_type
                                 else claims)
        return f"{self.api_base}/v1/unsubscribe/{token}"

    def pixel(self) -> str:
        return f"{self.api_base}/v1/t/o/{open_token(self.signer, self.lead_id, self.message_id, self.sent_at)}.gif"


_FOOTER_WORDS = {"ja": {"unsubscribe": "配信停止・配信設定"},
                 "en": {"unsubscribe": "Unsubscribe or change your emails"}}
# Emails a person asked for a moment ago (a double opt-in confirmation, a download's material, a seminar
# registration's): one each, with nothing to unsubscribe from.
TRANSACTIONAL_KINDS = frozenset({"confirmation", "material", "event"})
# What they may show besides the lead's fields: the link, and the values around it (for the config check).
TRANSACTIONAL_VALUES = {"confirm_url": "", "kept_days": 7, "download_url": "", "material": "", "link_days": 7,
                        "event": {"title": "", "starts": "", "place": "", "online_url": "", "venue": ""},
                        "hours_before": 24}


class _Footer(Struct, frozen=True):
    """The sender's legal footer in one language, with the opt-out link when the email has one: `sender.*` and
    `{{ sender_footer }}` for templates (text in the subject and text parts, markup in the HTML part)."""

    fields: dict[str, str]
    text: str
    html: Markup | str

    @classmethod
    def of(cls, sender: SenderIdentity | None, language: str, unsubscribe_url: str | None) -> _Footer:
        if sender is None:
            return cls({}, "", "")
        fields = {name: getattr(getattr(sender, name), language)
                  for name in ("legal_name", "postal_address", "contact")}
        lines, markup = list(fields.values()), [escape(value) for value in fields.values()]
        if unsubscribe_url:
            label = _FOOTER_WORDS[language]["unsubscribe"]
            lines.append(f"{label}: {unsubscribe_url}")
            markup.append(f'<a href="{escape(unsubscribe_url)}">{escape(label)}</a>')
        html = '<hr><p style="font-size:12px;color:#666666">' + "<br>".join(markup) + "</p>"
        return cls(fields, "--\n" + "\n".join(lines), Markup(html))  # noqa: S704 - its parts are escaped above


def _lead_context(profile: dict[str, Any], language: str,
                  custom_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What the lead typed goes in as text: escaped in HTML, and never a link (refused at the door; a value stored
    before that rule renders empty). Any other field is undefined and renders empty."""
    context: dict[str, Any] = {field: rendered_value(profile.get(field)) for field in RENDERED_FIELDS}
    context["name"] = context["name"] or FALLBACK_NAME[language]
    custom = profile.get("custom") or {}
    context["custom"] = {name: rendered_value(custom.get(name)) for name in custom_fields}
    # What customers like this one bought next (a cross-sell email's product): text, as a lead's field is.
    context["next_product"] = rendered_value((profile.get("customer") or {}).get("next_product"))
    return context


def _render(parts: TemplateParts, context: dict[str, Any], footer: _Footer,
            sign: Callable[[str], str]) -> tuple[str, str, str, tuple[str, ...]]:
    """Subject, HTML and text of `parts`, each written link replaced by `sign(link)`, and the HTML's written links.
    Any failure of marketers' template code is a RenderFailed: nothing is sent half-rendered."""
    try:
        subject_template, _ = _compiled("subject", parts.subject)
        html_template, html_links = _compiled("html", parts.html)
        text_template, text_links = _compiled("text", parts.text)
        base = {**context, "sender": footer.fields}
        subject = clean_text(subject_template.render({**base, "sender_footer": footer.text}))  # one line
        html = html_template.render({**base, "sender_footer": footer.html, SIGNED_LINKS: list(map(sign, html_links))})
        text = text_template.render({**base, "sender_footer": footer.text, SIGNED_LINKS: list(map(sign, text_links))})
    except Exception as error:  # any failure of marketers' template code stops this send, whole
        raise RenderFailed(f"{type(error).__name__}: {error}") from error
    return subject, html, text, html_links


def footer_problems(template: EmailTemplate) -> list[str]:
    """What the template's HTML and text parts do not show of the sender's legal footer (name, postal address,
    contact) and the opt-out link, rendered with marker values: for `nurture config check`."""
    markers = SenderIdentity(legal_name=InBothLanguages(ja="@@NAME@@", en="@@NAME@@"),
                             postal_address=InBothLanguages(ja="@@ADDRESS@@", en="@@ADDRESS@@"),
                             contact=InBothLanguages(ja="@@CONTACT@@", en="@@CONTACT@@"))
    opt_out = None if template.kind in TRANSACTIONAL_KINDS else "https://opt-out.invalid/@@OPTOUT@@"
    wanted = {"the sender's legal name": "@@NAME@@", "postal address": "@@ADDRESS@@", "contact": "@@CONTACT@@",
              **({"the opt-out link": "@@OPTOUT@@"} if opt_out else {})}
    problems = []
    for language in ("ja", "en"):
        parts = getattr(template, language)
        if parts is None:
            continue
        context = {**_lead_context({}, language), **TRANSACTIONAL_VALUES, "unsubscribe_url": opt_out or ""}
        try:
            _, html, text, _ = _render(parts, context, _Footer.of(markers, language, opt_out), lambda url: url)
        except RenderFailed:
            continue  # a template that does not render is reported by its syntax check
        for part, shown in (("html", html), ("text", text)):
            missing = [label for label, marker in wanted.items() if marker not in shown]
            if missing:
                problems.append(f"{language}.{part}: does not show {', '.join(missing)}: add {{{{ sender_footer }}}}")
    return problems


class RenderedEmail(Struct, frozen=True):
    language: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]


def render_email(template: EmailTemplate, language: str, profile: dict[str, Any], links: Links,
                 open_pixel: bool = True, custom_fields: frozenset[str] = frozenset(),
                 sender: SenderIdentity | None = None) -> RenderedEmail:
    """`custom_fields`: the form fields marked `rendered`, which templates may use as `custom.<name>`; `sender`:
    who sends, for the legal footer."""
    used, parts = template.parts(language)
    unsubscribe_url = links.unsubscribe()
    context = {**_lead_context(profile, used, custom_fields), "unsubscribe_url": unsubscribe_url}
    subject, html, text, html_links = _render(parts, context, _Footer.of(sender, used, unsubscribe_url), links.click)
    if unsubscribe_url not in text:
        text += f"\n\n{'配信停止' if used == 'ja' else 'Unsubscribe'}: {unsubscribe_url}\n"
    if escape(unsubscribe_url) not in html:
        label = "配信停止はこちら" if used == "ja" else "Unsubscribe"
        html += f'\n<p><a href="{escape(unsubscribe_url)}">{label}</a></p>'
    if html_links:
        # A link no person sees or reaches with the keyboard: whoever follows it is a machine.
        html += (f'\n<a href="{escape(links.click(html_links[0], HONEYPOT))}" style="display:none" '
                 f'aria-hidden="true" tabindex="-1"></a>')
    if open_pixel:
        html += f'\n<img src="{escape(links.pixel())}" width="1" height="1" alt="" style="display:none">'
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
    }
    return RenderedEmail(used, subject, html, text, headers)


def render_transactional(template: EmailTemplate, language: str, profile: dict[str, Any], values: dict[str, Any],
                         sender: SenderIdentity | None = None) -> RenderedEmail:
    """An email the person just asked for (a double opt-in confirmation, a download's material): `values` holds
    its own link; nothing tracked (no pixel, no signed links, no unsubscribe); the sender's legal footer."""
    used, parts = template.parts(language)
    context = {**_lead_context(profile, used), **values}
    subject, html, text, _ = _render(parts, context, _Footer.of(sender, used, None), lambda url: url)
    return RenderedEmail(used, subject, html, text, {})


@lru_cache(maxsize=256)
def _compiled(part: Part, source: str) -> tuple[Template, tuple[str, ...]]:
    """The template, its written links replaced by their signed versions' places, and those links.

    Only the literal text of the template (its TemplateData nodes) is searched, never an expression,
    so a link can come from nowhere but the template's author."""
    environment = _html if part == "html" else _text
    tree = environment.parse(source)
    found: list[str] = []
    if part != "subject":
        for output in tree.find_all(nodes.Output):
            output.nodes = [piece for node in output.nodes
                            for piece in (_with_links(node, part, found) if isinstance(node, nodes.TemplateData)
                                          else [node])]
    return environment.from_string(tree), tuple(found)


def _with_links(node: nodes.TemplateData, part: Part, found: list[str]) -> list[nodes.Expr]:
    """The literal text, each written link in it replaced by `nurture_links[n]`."""
    pieces: list[nodes.Expr] = []
    rest, data = 0, node.data
    matches = ([(m.start(3), m.end(3), unescape(m.group(3))) for m in HTML_LINK.finditer(data)] if part == "html"
               else [(m.start(), m.start() + len(url), url) for m in TEXT_LINK.finditer(data)
                     if (url := trim_text_link(m.group()))])
    for start, end, url in matches:
        pieces.append(nodes.TemplateData(data[rest:start], lineno=node.lineno))
        pieces.append(nodes.Getitem(nodes.Name(SIGNED_LINKS, "load", lineno=node.lineno),
                                    nodes.Const(len(found), lineno=node.lineno), "load", lineno=node.lineno))
        found.append(url)
        rest = end
    pieces.append(nodes.TemplateData(data[rest:], lineno=node.lineno))
    return pieces
