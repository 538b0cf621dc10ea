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


def test_a_cross_sell_email_names_what_customers_like_this_one_bought_next_as_text():
    template = EmailTemplate(ja=TemplateParts(subject="{{ next_product or 'おすすめ' }}のご案内",
                                              html="<p>{{ next_product }}</p>", text="{{ next_product }}"))
    offered = {"name": "A", "customer": {"next_product": "研修<b>"}}
    email = render_email(template, "ja", offered, LINKS)
    assert email.subject == "研修<b>のご案内" and "<p>研修&lt;b&gt;</p>" in email.html
    assert render_email(template, "ja", {"name": "A"}, LINKS).subject == "おすすめのご案内"  # none: empty
    linked = {"name": "A", "customer": {"next_product": "https://evil.example/x"}}
    assert "evil" not in render_email(template, "ja", linked, LINKS).html


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


def _click_destinations(email, signer=SIGNER) -> list[str]:
    import re

    tokens = re.findall(r"/v1/t/c/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", email.html + "\n" + email.text)
    return [signer.verify(token, CLICK)["u"] for token in tokens]


def test_a_link_typed_into_a_lead_field_is_never_signed_and_never_shown():
    from nurture.domain.emails import TRANSACTIONAL_KINDS, TRANSACTIONAL_VALUES, render_transactional

    phishing = "至急ご確認ください https://evil.example/login"
    for template in TEMPLATES.values():
        lead = {"name": phishing, "company": "www.evil.example", "title": "x@evil.example"}
        # An email a person asked for is rendered with its own values (its link, an event's times), untracked.
        email = render_transactional(template, "ja", lead, TRANSACTIONAL_VALUES) \
            if template.kind in TRANSACTIONAL_KINDS else render_email(template, "ja", lead, LINKS)
        assert all("evil" not in url for url in _click_destinations(email))
        assert "evil" not in email.subject + email.html + email.text
        assert email.subject.startswith("ご担当者") or "ご担当者" not in template.ja.subject  # the fallback name


def test_only_links_written_in_the_template_are_signed_not_links_an_expression_produces():
    template = EmailTemplate(ja=TemplateParts(
        subject="s", html='<p><a href="https://www.example.co.jp/a">a</a> {{ "https://" ~ "x.example/b" }}</p>',
        text="https://www.example.co.jp/a {{ 'https://' ~ 'x.example/b' }}"))
    email = render_email(template, "ja", {}, LINKS)
    assert _click_destinations(email) == ["https://www.example.co.jp/a"] * 3  # html, its hidden twin, text
    assert "https://x.example/b" in email.html and "https://x.example/b" in email.text  # as text, never signed


def test_a_link_followed_by_japanese_text_is_cut_where_the_url_ends():
    template = EmailTemplate(ja=TemplateParts(
        subject="s", html="<p>x</p>",
        text="詳細はhttps://example.co.jp/x?a=1様、または（https://example.co.jp/y）。https://example.co.jp/z."))
    email = render_email(template, "ja", {}, LINKS)
    assert _click_destinations(email) == ["https://example.co.jp/x?a=1", "https://example.co.jp/y",
                                          "https://example.co.jp/z"]
    assert "様、または（" in email.text and "）。" in email.text


def test_links_in_single_quoted_hrefs_are_signed_with_their_entities_read():
    template = EmailTemplate(ja=TemplateParts(subject="s", html="<a href='https://example.co.jp/?a=1&amp;b=2'>x</a>",
                                              text="t"))
    assert _click_destinations(render_email(template, "ja", {}, LINKS))[0] == "https://example.co.jp/?a=1&b=2"


def test_a_link_built_from_a_template_value_is_a_config_problem():
    template = EmailTemplate(ja=TemplateParts(subject="s", html='<a href="https://example.co.jp/?id={{ name }}">',
                                              text="https://example.co.jp/{% if name %}x{% endif %}"))
    problems = syntax_problems(template)
    assert len(problems) == 2 and all("link is built from a template value" in p for p in problems)


def test_invisible_and_control_characters_never_reach_the_subject_line():
    email = render_email(TEMPLATES["know_how"], "ja", {"name": "山田\u202e\u0000\u200b\u2066太郎\x1b[31m"}, LINKS)
    assert email.subject.startswith("山田太郎[31m様")
    assert all(ch.isprintable() for ch in email.subject)


def test_rendered_custom_fields_are_shown_and_others_are_not():
    template = EmailTemplate(ja=TemplateParts(subject="{{ custom.session }}", html="<p>{{ custom.secret }}</p>",
                                              text="t"))
    profile = {"custom": {"session": "2026-12-10", "secret": "hidden"}}
    email = render_email(template, "ja", profile, LINKS, custom_fields=frozenset({"session"}))
    assert email.subject == "2026-12-10" and "hidden" not in email.html


CONFIG = load_config(CONFIG_DIR)
SENDER = CONFIG.sequences.sender


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_email_shows_the_senders_name_address_contact_and_opt_out_in_both_parts(language):
    email = render_email(TEMPLATES["case_study"], language, {"name": "Ann"}, LINKS, sender=SENDER)
    unsubscribe = email.headers["List-Unsubscribe"].strip("<>")
    for part in (email.html, email.text):
        for field in ("legal_name", "postal_address", "contact"):
            assert getattr(getattr(SENDER, field), language) in part
        assert unsubscribe in part
    assert email.text.count(unsubscribe) == 1  # the footer's link: not appended a second time


def test_the_confirmation_email_shows_the_sender_but_has_nothing_to_unsubscribe_from():
    from nurture.domain.emails import render_transactional

    email = render_transactional(TEMPLATES["confirm_subscription"], "ja", {},
                                 {"confirm_url": "https://api.example.com/v1/confirm/t", "kept_days": 7}, SENDER)
    assert SENDER.legal_name.ja in email.html and SENDER.postal_address.ja in email.text
    assert "https://api.example.com/v1/confirm/t" in email.text and "unsubscribe" not in email.html
    assert email.headers == {} and "/v1/t/" not in email.html  # no one-click header, pixel or tracked link


def test_config_check_names_each_template_part_without_the_legal_footer_or_the_opt_out_link():
    from nurture.domain.emails import footer_problems

    bare = EmailTemplate(ja=TemplateParts(subject="s", html="<p>{{ sender.legal_name }}</p>", text="本文"))
    assert footer_problems(bare) == [
        "ja.html: does not show postal address, contact, the opt-out link: add {{ sender_footer }}",
        "ja.text: does not show the sender's legal name, postal address, contact, the opt-out link: add "
        "{{ sender_footer }}"]
    hidden = EmailTemplate(en=TemplateParts(subject="s", html="{% if false %}{{ sender_footer }}{% endif %}",
                                            text="{{ sender_footer }}"))
    assert footer_problems(hidden) == [  # rendered, not searched: a footer that never shows does not count
        "en.html: does not show the sender's legal name, postal address, contact, the opt-out link: add "
        "{{ sender_footer }}"]
    written = EmailTemplate(kind="confirmation", ja=TemplateParts(
        subject="s", html="{{ sender.legal_name }} {{ sender.postal_address }} {{ sender.contact }}",
        text="{{ sender_footer }}"))
    assert footer_problems(written) == []  # a confirmation has no opt-out to show
