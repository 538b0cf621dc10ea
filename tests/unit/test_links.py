"""Where an email click may lead: only to hosts the config allows, as an ASCII URI."""

import pytest

from nurture.domain.errors import InvalidToken
from nurture.domain.links import LinkNotAllowed, ascii_uri, back_link, host_allowed, hosts_in, redirect_target

ALLOWED = frozenset({"www.example.co.jp", "*.example.com"})


@pytest.mark.parametrize("url", ["https://evil.example/login", "https://www.example.co.jp.evil.example/",
                                 "https://example.com/", "https://www.example.co.jp@evil.example/",
                                 "https://evil.example\\@www.example.co.jp/"])
def test_a_genuine_link_to_a_host_not_allowed_is_refused(url):
    with pytest.raises(InvalidToken):
        redirect_target(url, ALLOWED)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/", "ftp://example.jp/", "/relative", 42,
                                 "https://", "http://[::1"])
def test_only_absolute_web_urls_are_redirect_targets(url):
    with pytest.raises(InvalidToken):
        redirect_target(url, ALLOWED)


def test_allowed_hosts_are_exact_or_below_a_wildcard_domain():
    assert host_allowed("WWW.Example.co.jp.", ALLOWED) and host_allowed("a.b.example.com", ALLOWED)
    assert not host_allowed("example.co.jp", ALLOWED) and not host_allowed("badexample.com", ALLOWED)
    with pytest.raises(LinkNotAllowed):
        redirect_target("https://notexample.com/", ALLOWED)


def test_a_japanese_url_becomes_an_ascii_uri_a_header_can_carry():
    assert redirect_target("https://www.example.co.jp/資料?q=リード#節", ALLOWED) == (
        "https://www.example.co.jp/%E8%B3%87%E6%96%99?q=%E3%83%AA%E3%83%BC%E3%83%89#%E7%AF%80")
    assert ascii_uri("https://例え.jp/a b\"<>") == "https://xn--r8jz45g.jp/a%20b%22%3C%3E"
    assert ascii_uri("https://example.jp/already%20encoded?x=1&y=2") == "https://example.jp/already%20encoded?x=1&y=2"


def test_the_hosts_a_template_links_to_are_read_from_its_text():
    assert hosts_in('<a href="https://WWW.Example.co.jp:8443/x">x</a> text https://b.example/y?z=1様 {{ name }}') == {
        "www.example.co.jp", "b.example"}


@pytest.mark.parametrize(("referer", "expected"), [
    ("https://www.example.co.jp/contact.html", "https://www.example.co.jp/contact.html"),  # a host emails link to
    ("http://127.0.0.1:3000/demo/", "http://127.0.0.1:3000/demo/"),  # an allowed origin
    ("https://api.example.net/v1/forms/x", "https://api.example.net/v1/forms/x"),  # the page's own host
    ("https://evil.example/", None), ("javascript:alert(1)", None), ("//www.example.co.jp/", None),
    ("https://www.example.co.jp@evil.example/", None), (None, None), ("", None)])
def test_a_back_link_leads_only_to_the_senders_own_sites(referer, expected):
    assert back_link(referer, ["http://127.0.0.1:3000"], ALLOWED, "api.example.net") == expected


def test_an_internationalised_domain_is_allowed_whichever_form_it_is_written_in():
    from nurture.domain.links import link_domain

    assert hosts_in("https://例え.jp/資料") == {"xn--r8jz45g.jp"}
    assert link_domain("*.例え.JP") == "*.xn--r8jz45g.jp" and link_domain("not a host") is None
    assert redirect_target("https://例え.jp/資料", frozenset(hosts_in("https://例え.jp/"))).startswith(
        "https://xn--r8jz45g.jp/")
