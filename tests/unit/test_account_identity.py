"""Which account a lead joins (issue 24): company names folded over real-shaped Japanese and English spellings,
and the address's domain when no company is given (free mail never forms an account)."""

from __future__ import annotations

import pytest

from nurture.domain.accounts.identity import account_of, company_key

# Spellings of one company as people type them into forms and business-card apps.
SAME_COMPANY = [
    ("株式会社ミライ工房", ["ミライ工房", "ミライ工房株式会社", "（株）ミライ工房", "(株)ミライ工房", "㈱ミライ工房",
                    "株式会社　ミライ工房", "ﾐﾗｲ工房", "ミライ工房 株式会社", "ミライ 工房"]),
    ("Mirai Kobo Co., Ltd.", ["MIRAI KOBO CO.,LTD.", "Mirai Kobo Co. Ltd", "mirai kobo", "Ｍｉｒａｉ　Ｋｏｂｏ",
                              "Mirai-Kobo Inc.", "Mirai Kobo, Inc", "Mirai Kobo K.K.", "Mirai Kobo Corporation"]),
    ("有限会社 田中商店", ["田中商店", "(有)田中商店", "㈲田中商店", "田中商店（有）"]),
    ("合同会社ネクスト", ["ネクスト合同会社", "ネクスト(同)"]),
    ("一般社団法人 日本データ協会", ["日本データ協会"]),
    ("NTTデータ株式会社", ["株式会社NTTデータ", "ＮＴＴデータ", "nttデータ"]),
    ("Acme & Sons Limited", ["ACME & SONS LTD.", "Acme &Sons Ltd", "acme ＆ sons"]),
]
DIFFERENT = [("ミライ工房", "ミライ工業"), ("Acme", "Acme Japan"), ("日立製作所", "日立システムズ"),
             ("Company A", "Company B")]


@pytest.mark.parametrize(("name", "spellings"), SAME_COMPANY)
def test_spellings_of_one_company_fold_to_one_key(name, spellings):
    assert {company_key(spelling) for spelling in spellings} == {company_key(name)}


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_companies_stay_apart(one, other):
    assert company_key(one) != company_key(other)


@pytest.mark.parametrize("nothing", ["", "  ", "株式会社", "Co., Ltd.", "（株）", None, "なし", "個人", "自営業",
                                     "フリーランス", "N/A", "none", "Self-employed", "-", "テスト"])
def test_a_legal_form_alone_or_a_placeholder_names_no_company(nothing):
    assert company_key(nothing) is None


def test_a_lead_joins_by_its_company_name_whatever_its_address():
    at_work = account_of("taro@mirai.co.jp", "株式会社ミライ工房")
    at_home = account_of("hanako@gmail.com", "ミライ工房")
    assert at_work is not None and at_home is not None and at_work.key == at_home.key
    assert (at_work.domain, at_home.domain) == ("mirai.co.jp", None)


def test_without_a_company_the_domain_forms_the_account_and_free_mail_none():
    assert account_of("Taro@Mirai.co.jp", "") == account_of("jiro@mirai.co.jp", None)
    assert account_of("taro@mirai.co.jp", None).key == "@mirai.co.jp"
    for free in ("a@gmail.com", "a@yahoo.co.jp", "a@docomo.ne.jp", "a@icloud.com", "a@outlook.jp",
                 "a@plala.or.jp", "a@jcom.home.ne.jp", "a@comcast.net"):  # carriers' and providers' mail too
        assert account_of(free, None) is None
    assert account_of("a@gmail.com", "個人") is None  # strangers on free mail never share an account
