"""Which company a lead belongs to, as a key two spellings of one company share."""

from __future__ import annotations

import re
import unicodedata

# Legal forms, Japanese and English, wherever they stand: 株式会社リスト, リスト(株), List Co., Ltd.
_LEGAL_FORMS = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|\((株|有|同)\)|㈱|㈲"
    r"|\b(co\.?,?\s*ltd\.?|inc\.?|corp\.?|corporation|ltd\.?|llc|k\.?k\.?|g\.?k\.?|company|limited)(?=\W|$)",
    re.IGNORECASE,
)
_NOT_NAME = re.compile(r"[\s,.・･'\"()（）「」&＆-]+")


def company_key(company: object) -> str | None:
    """The company name folded (full-width and half-width alike, case, legal forms, spaces and punctuation);
    None when nothing is left to tell one company from another."""
    text = unicodedata.normalize("NFKC", str(company or "")).casefold()
    folded = _NOT_NAME.sub("", _LEGAL_FORMS.sub(" ", text))
    return folded or None
