"""Normalization of what people type into forms."""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_EMAIL_LENGTH = 254
_LOCAL_PART = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_IDEOGRAPHIC_STOPS = re.compile("[\u3002\uff0e\uff61]")  # what IDNA reads as dots between labels
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_WHITESPACE = re.compile(r"\s+")
_PHONE = re.compile(r"^\+?[0-9()\- ]{4,40}$")
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n\t]+")
_KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width non-joiner and joiner
# A scheme with "//", one of the schemes used without it (right before what follows, so "Head of Data: EMEA"
# is no link), a www. host, or an @host.
_LINK_LIKE = re.compile(r"[a-z][a-z0-9+.\-]*://|\b(?:javascript|mailto|data|vbscript|file):(?=\S)"
                        r"|\bwww\d{0,3}\.|@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")


class InvalidEmail(ValueError):
    pass


def normalize_email(raw: str) -> str:
    """Trim, fold full-width characters and lower-case the domain (an internationalized one in its ASCII form);
    keep the local part's case.

    Raises InvalidEmail for anything that is not a plausible single address.
    """
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise InvalidEmail("empty")
    if len(value) > MAX_EMAIL_LENGTH or value.count("@") != 1:
        raise InvalidEmail("not a single address")
    local, domain = value.split("@")
    domain = domain.lower().rstrip(".")
    if not domain.isascii():  # 例え.jp is sent and stored as SES takes it: xn--r8jz45g.jp (IDNA, RFC 3490)
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
            # IDNA 2003 maps a few letters to others (ß to ss): that would be another domain under IDNA 2008
            mapped = ascii_domain.encode("ascii").decode("idna") != _IDEOGRAPHIC_STOPS.sub(".", domain)
        except UnicodeError:
            raise InvalidEmail("invalid domain") from None
        if mapped:
            raise InvalidEmail("invalid domain")
        domain = ascii_domain
    labels = domain.split(".")
    if not _LOCAL_PART.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail("invalid local part")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidEmail("invalid domain")
    return f"{local}@{domain}"


def email_key(normalized_email: str) -> str:
    """The key an address is known by: a hash, so raw addresses never appear in keys or logs.

    Local parts are compared case-insensitively, as every mainstream mailbox provider does.
    """
    return hashlib.sha256(normalized_email.lower().encode("utf-8")).hexdigest()


def clean_text(raw: str, multiline: bool = False) -> str:
    """Trim and collapse white space (full-width spaces included) and drop what cannot be seen; keep the
    characters people typed. A multi-line field keeps its line breaks and tabs."""
    text = raw.replace("\u3000", " ")
    if not multiline:
        return drop_invisible(_WHITESPACE.sub(" ", text)).strip()
    lines = _LINE_BREAKS.sub("\n", text).split("\n")
    return drop_invisible("\n".join(_SPACES.sub(" ", line).rstrip() for line in lines)).strip()


def drop_invisible(text: str) -> str:
    """Without control characters (C0 and C1, NUL among them) and format characters (bidi overrides and
    isolates, zero-width spaces, the BOM): they hide or reorder what a reader sees, in a name or a
    subject line alike. Tab and newline stay for multi-line fields (one-line fields have made them
    spaces already); zero-width (non-)joiners stay because scripts and emoji need them."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch for ch in text if ch in "\t\n" or _visible(ch))


def contains_link(text: str) -> bool:
    """A URL scheme, a `www.` host or an `@host`, in any width: what a mail client would make a link."""
    return bool(_LINK_LIKE.search(unicodedata.normalize("NFKC", text).lower()))


def rendered_value(value: object) -> str:
    """A lead's value as an email shows it: one clean line, and nothing that would become a link."""
    text = clean_text(str(value)) if value not in (None, "") else ""
    return "" if contains_link(text) else text


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cc", "Cf") or ch in _KEPT_FORMAT


def normalize_phone(raw: str) -> str | None:
    """Fold full-width digits and dashes; None when what remains is not a phone number."""
    value = unicodedata.normalize("NFKC", raw).strip()
    value = re.sub(r"[‐‑‒–—―ー−]", "-", value)
    return value if _PHONE.match(value) else None


def normalize_number(raw: str) -> str:
    """Fold full-width digits and drop thousands separators, so "１，０００" reads as "1000"."""
    value = unicodedata.normalize("NFKC", raw).strip()
    return value.replace(",", "") if re.fullmatch(r"[0-9][0-9,]*", value) else value


# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP's CSV-injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_cell(value: object) -> object:
    """A free-text value as a spreadsheet shows it, never runs it: one that starts like a formula gets a
    leading apostrophe. Numbers stay numbers."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value
