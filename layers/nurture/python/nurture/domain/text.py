"""Normalization of what people type into forms."""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_EMAIL_LENGTH = 254
_LOCAL_PART = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_WHITESPACE = re.compile(r"\s+")
_PHONE = re.compile(r"^\+?[0-9()\- ]{4,40}$")


class InvalidEmail(ValueError):
    pass


def normalize_email(raw: str) -> str:
    """Trim, fold full-width characters and lower-case the domain; keep the local part's case.

    Raises InvalidEmail for anything that is not a plausible single address.
    """
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise InvalidEmail("empty")
    if len(value) > MAX_EMAIL_LENGTH or value.count("@") != 1:
        raise InvalidEmail("not a single address")
    local, domain = value.split("@")
    domain = domain.lower().rstrip(".")
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


def clean_text(raw: str) -> str:
    """Trim and collapse white space (full-width spaces included); keep the characters people typed."""
    return _WHITESPACE.sub(" ", raw.replace("\u3000", " ")).strip()


def normalize_phone(raw: str) -> str | None:
    """Fold full-width digits and dashes; None when what remains is not a phone number."""
    value = unicodedata.normalize("NFKC", raw).strip()
    value = re.sub(r"[‐‑‒–—―ー−]", "-", value)
    return value if _PHONE.match(value) else None


def normalize_number(raw: str) -> str:
    """Fold full-width digits and drop thousands separators, so "１，０００" reads as "1000"."""
    value = unicodedata.normalize("NFKC", raw).strip()
    return value.replace(",", "") if re.fullmatch(r"[0-9][0-9,]*", value) else value
