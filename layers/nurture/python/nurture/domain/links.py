"""Web links in emails: which ones the template author wrote, and where a click may lead.

Only links written in a template are ever signed: they are found in the template's own text, before
any lead value exists, so nothing a visitor typed can become a signed link. A click is redirected only
to a host the config allows (the hosts in the templates, plus `link_domains`), as an ASCII URI.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

from nurture.domain.errors import InvalidToken

# A link in plain text: RFC 3986's characters only, so Japanese text right after it ends it
# ("https://example.co.jp/x?a=1様" links to ...?a=1).
TEXT_LINK = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# An anchor's href, single- or double-quoted, as written in HTML.
HTML_LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://.*?)\2""", re.IGNORECASE | re.DOTALL)
# Any http(s) URL's host in a template's source, wherever it stands: the hosts its author meant.
_HOST_IN_TEXT = re.compile(r"https?://([^/?#\s\"'<>{}\\]+)", re.IGNORECASE)
_TRAILING = ".,;:!?'"
_HOST_NAME = re.compile(r"^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
# What may stand in each part of a URI as it is (RFC 3986); everything else is percent-encoded.
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


class LinkNotAllowed(InvalidToken):
    """A genuine click token whose destination is on a host the config does not allow."""


class NotAWebAddress(ValueError):
    """Not an absolute http(s) URL a header or a link may carry."""


def trim_text_link(url: str) -> str:
    """A link as a reader means it: without the sentence's closing punctuation or an unopened bracket."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))
                   or (url[-1] == "]" and url.count("[") < url.count("]"))):
        url = url[:-1]
    return url


def hosts_in(text: str) -> set[str]:
    """The host of every http(s) URL in a template's text."""
    hosts = set()
    for match in _HOST_IN_TEXT.finditer(text):
        try:
            host = urlsplit(f"http://{match.group(1)}").hostname
        except ValueError:
            continue
        if host:
            hosts.add(_bare_host(host))
    return hosts


def link_domain(entry: str) -> str | None:
    """A `link_domains` entry as hosts are compared (lower case, punycode): a host name, or `*.` and a domain
    (any host below it); None for anything else."""
    wildcard = entry.startswith("*.")
    host = _bare_host(entry[2:] if wildcard else entry)
    return f"*.{host}" if wildcard and _HOST_NAME.match(host) else host if _HOST_NAME.match(host) else None


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    host = _bare_host(host)
    if host in allowed:
        return True
    return any(entry.startswith("*.") and host.endswith(entry[1:]) for entry in allowed)


def redirect_target(url: object, allowed: frozenset[str]) -> str:
    """Where a genuine click token may send a person: an absolute http(s) URL, as an ASCII URI, on an
    allowed host. Anything else is refused (InvalidToken), and nobody is redirected."""
    if not isinstance(url, str):
        raise InvalidToken("The link has no destination.")
    try:
        uri = ascii_uri(url)
    except NotAWebAddress as error:
        raise InvalidToken(f"The link's destination is not a plain web address: {error}") from error
    host = urlsplit(uri).hostname
    if host is None or not host_allowed(host, allowed):
        raise LinkNotAllowed("The link's destination is not one of this sender's sites.")
    return uri


def back_link(referer: str | None, origins: list[str], hosts: frozenset[str], serving_host: str | None) -> str | None:
    """Where a page's "back" link may point: the page the browser says the visitor came from (its Referer),
    only when that page is on one of the sender's own sites (an allowed CORS origin, a host emails may link
    to, or the host serving the page itself). A Referer is whatever the visitor's browser, or a script,
    sends: anything else gets no link."""
    if not referer:
        return None
    try:
        uri = ascii_uri(referer)
    except NotAWebAddress:
        return None
    parts = urlsplit(uri)
    own = (f"{parts.scheme}://{parts.netloc}" in origins or host_allowed(parts.hostname or "", hosts)
           or parts.netloc == (serving_host or "").lower())
    return uri if own else None


def ascii_uri(url: str) -> str:
    """The URI a browser would send for `url`: IDNA host, percent-encoded path, query and fragment.

    Only absolute http(s) URLs without credentials qualify (NotAWebAddress): a header or a link never carries
    anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as error:
        raise NotAWebAddress("unreadable") from error
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise NotAWebAddress("not an absolute http(s) URL")
    if "@" in parts.netloc or any(ch in parts.netloc for ch in "\\ \t\r\n"):
        raise NotAWebAddress("credentials or spaces in the host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
        port = parts.port
    except (UnicodeError, ValueError) as error:
        raise NotAWebAddress("an invalid host or port") from error
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, quote(parts.path, safe=_SAFE_PATH),
                       quote(parts.query, safe=_SAFE_QUERY), quote(parts.fragment, safe=_SAFE_QUERY)))


def _bare_host(host: str) -> str:
    """Lower case, no brackets or final dot, and an internationalised name in its ASCII (punycode) form, as a
    click's destination is compared in."""
    bare = host.strip("[]").rstrip(".").lower()
    try:
        return bare.encode("idna").decode("ascii")
    except UnicodeError:
        return bare
