"""Which company a lead belongs to: a key two spellings of one company share, found from the company's name (folded)
or, without one, from the address's domain (a free-mail domain is no company's)."""

from __future__ import annotations

import re
import unicodedata

from msgspec import Struct

# Legal forms, Japanese and English, wherever they stand: 株式会社リスト, リスト(株), List Co., Ltd.
_LEGAL_FORMS = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|\((株|有|同)\)|㈱|㈲"
    r"|\b(co\.?,?\s*ltd\.?|inc\.?|corp\.?|corporation|ltd\.?|llc|k\.?k\.?|g\.?k\.?|company|limited)(?=\W|$)",
    re.IGNORECASE,
)
_NOT_NAME = re.compile(r"[\s,.・･'\"()（）「」&＆-]+")


# What people type when a form insists on a company they do not have: no company, and never one account of strangers.
_NO_COMPANY = frozenset({
    "なし", "無し", "ナシ", "特になし", "無", "個人", "個人事業主", "自営", "自営業", "フリーランス", "学生",
    "無職", "主婦", "会社員", "テスト", "未定", "不明",
    "none", "nothing", "na", "n/a", "nil", "null", "private", "personal", "self", "selfemployed", "freelance",
    "freelancer", "student", "individual", "test", "unknown", "xxx", "-",
})


def company_key(company: object) -> str | None:
    """The company name folded (full-width and half-width alike, case, legal forms, spaces and punctuation);
    None when nothing is left to tell one company from another, or it says there is no company."""
    text = unicodedata.normalize("NFKC", str(company or "")).casefold().strip()
    folded = _NOT_NAME.sub("", _LEGAL_FORMS.sub(" ", text))
    return None if not folded or folded in _NO_COMPANY or text in _NO_COMPANY else folded


# Mail any person can get: its domain says nothing of where they work (Japan's carriers and ISPs among them).
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.co.jp", "ymail.ne.jp", "yahoo.com", "hotmail.com", "hotmail.co.jp",
    "outlook.com", "outlook.jp", "live.com", "live.jp", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "proton.me", "protonmail.com", "gmx.com", "mail.com", "yandex.com", "qq.com", "163.com", "naver.com",
    "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp", "ymobile.ne.jp", "nifty.com",
    "biglobe.ne.jp", "ocn.ne.jp", "so-net.ne.jp", "excite.co.jp", "infoseek.jp", "goo.jp",
    # Internet providers' mail, Japanese and others: a subscriber's address, no employer's.
    "plala.or.jp", "dion.ne.jp", "nifty.ne.jp", "ybb.ne.jp", "jcom.home.ne.jp", "jcom.zaq.ne.jp", "zaq.ne.jp",
    "eonet.ne.jp", "odn.ne.jp", "hi-ho.ne.jp", "gol.com", "k-opti.com", "tnc.ne.jp", "mineo.jp", "rakuten.jp",
    "uqmobile.jp", "willcom.com", "pdx.ne.jp", "ezweb.com", "vodafone.ne.jp", "disney.ne.jp", "mopera.net",
    "comcast.net", "verizon.net", "att.net", "btinternet.com", "web.de", "gmx.de", "mail.ru", "hanmail.net",
    "126.com", "sina.com", "yahoo.co.uk", "yahoo.fr", "hotmail.fr", "hotmail.co.uk", "live.co.uk", "fastmail.com",
    "tutanota.com", "zoho.com",
})


class AccountRef(Struct, frozen=True):
    key: str  # the company's folded name, or "@<domain>" for a company known only by its domain
    domain: str | None  # the address's domain, unless free mail


def account_of(email: object, company: object) -> AccountRef | None:
    """The account a lead with this address and company belongs to: by the company's name when it has one (so
    a colleague writing from free mail joins too), else by a domain that is no free mail's; None otherwise."""
    domain = str(email or "").rpartition("@")[2].strip().lower() or None
    if domain in FREE_MAIL:
        domain = None
    key = company_key(company) or (f"@{domain}" if domain else None)
    return AccountRef(key, domain) if key else None
