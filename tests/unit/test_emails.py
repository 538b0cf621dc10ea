"""Rendering step emails: personalization, escaping, signed links, one-click unsubscribe."""

import pytest

from nurture.config import load_config
from nurture.config.templates import EmailTemplate, TemplateParts
from nurture.domain.emails import Links, RenderFailed, render_email, syntax_problems
from nurture.domain.tokens import CLICK, UNSUBSCRIBE, TokenSigner
from tests.conftest import CONFIG_DIR

TEMPLATES = load_config(CONFIG_DIR).templates
SIGNER = TokenSigner(b"k" * 32)
LINKS = Links("https://api.example.com", SIGNER, "lead-1", "msg-1")


def test_japanese_email_is_personalized_and_every_link_is_signed():
    email = render_email(TEMPLATES["know_how"], "ja", {"name": "山田 太郎", "company": "株式会社サンプル"}, LINKS)
    assert email.language == "ja" and email.subject.startswith("山田 太郎様")
    assert "https://www.example.co.jp/blog" not in email.html and "https://www.example.co.jp/blog" not in email.text
    click = email.html.split('href="https://api.example.com/v1/t/c/')[1].split('"')[0]
    assert SIGNER.verify(click, CLICK)["u"] == "https://www.example.co.jp/blog/lead-nurturing-101"
    assert '/v1/t/o/' in email.html  # the open pixel


def test_every_email_carries_one_click_unsubscribe():
    email = render_email(TEMPLATES["case_study"], "en", {"name": "Ann"}, LINKS)
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = email.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://api.example.com/v1/unsubscribe/")
    assert SIGNER.verify(url.rsplit("/", 1)[1], UNSUBSCRIBE)["l"] == "lead-1"
    assert url in email.text and url in email.html.replace("&amp;", "&")  # added even where the template has none


def test_names_are_escaped_in_html_and_fall_back_when_missing():
    email = render_email(TEMPLATES["know_how"], "en", {"name": "<script>alert(1)</script>"}, LINKS)
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    anonymous = render_email(TEMPLATES["know_how"], "ja", {}, LINKS)
    assert anonymous.subject.startswith("ご担当者様")


def test_missing_language_falls_back_to_the_other():
    template = EmailTemplate(en=TemplateParts(subject="Hi {{ name }}", html="<p>x</p>", text="x"))
    assert render_email(template, "ja", {"name": "A"}, LINKS).language == "en"


def test_a_template_that_fails_stops_the_send():
    broken = EmailTemplate(ja=TemplateParts(subject="{{ name.upper() + 1 }}", html="<p/>", text="x"))
    with pytest.raises(RenderFailed):
        render_email(broken, "ja", {"name": "A"}, LINKS)


def test_sandbox_refuses_unsafe_template_code():
    sneaky = EmailTemplate(ja=TemplateParts(subject="s", html="{{ ''.__class__.__mro__ }}", text="x"))
    with pytest.raises(RenderFailed):
        render_email(sneaky, "ja", {}, LINKS)


def test_syntax_errors_are_reported_for_config_check():
    bad = EmailTemplate(ja=TemplateParts(subject="{% if %}", html="<p/>", text="x"))
    assert syntax_problems(bad) and syntax_problems(TEMPLATES["know_how"]) == []


def test_every_email_hides_a_signed_honeypot_link_no_person_sees():
    import re

    signer = TokenSigner(b"h" * 32)
    email = render_email(TEMPLATES["know_how"], "ja", {"name": "山田"},
                         Links("https://api.example.com", signer, "l1", "m1", sent_at=1_800_000_000))
    (hidden,) = re.findall(r'<a href="https://api\.example\.com/v1/t/c/([^"]+)" style="display:none"[^>]*>', email.html)
    claims = signer.verify(hidden.replace("&amp;", "&"), CLICK)
    assert claims["t"] == "honeypot" and claims["s"] == 1_800_000_000 and claims["l"] == "l1"
    assert "honeypot" not in email.text
