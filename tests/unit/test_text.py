import pytest

from nurture.domain.text import (
    InvalidEmail,
    clean_text,
    email_key,
    normalize_email,
    normalize_number,
    normalize_phone,
    spreadsheet_cell,
)


def test_email_keeps_local_case_and_lowers_domain():
    assert normalize_email("  Taro.Yamada@Example.CO.JP ") == "Taro.Yamada@example.co.jp"


def test_full_width_email_is_folded():
    assert normalize_email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "taro@example.jp"


def test_an_internationalized_domain_is_accepted_in_its_ascii_form():
    assert normalize_email("taro@例え.jp") == normalize_email("taro@XN--R8JZ45G.jp") == "taro@xn--r8jz45g.jp"
    assert normalize_email("ｔａｒｏ＠日本語．ｊｐ") == "taro@xn--wgv71a119e.jp"  # full-width, as typed in Japanese
    assert email_key(normalize_email("taro@例え.jp")) == email_key("taro@xn--r8jz45g.jp")
    assert normalize_email("taro@例え。jp") == "taro@xn--r8jz45g.jp"  # an ideographic full stop between labels


def test_email_key_ignores_case_but_not_content():
    assert email_key("Taro@example.jp") == email_key("taro@EXAMPLE.jp".lower())
    assert email_key("taro@example.jp") != email_key("jiro@example.jp")


@pytest.mark.parametrize(
    "raw",
    ["", "no-at-sign", "a@b", "two@@example.jp", "a@b@c.jp", ".dot@example.jp", "a..b@example.jp",
     "a@-bad.jp", "a@example.123", "spaces in@example.jp", "x" * 250 + "@example.jp", "a@例え..jp", "hans@straße.de",
     "たろう@example.jp", "a@" + "長" * 70 + ".jp"],
)
def test_implausible_addresses_are_rejected(raw):
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_full_width_phone_digits_and_dashes_are_folded():
    assert normalize_phone("０３－１２３４－５６７８") == "03-1234-5678"
    assert normalize_phone("call me maybe") is None


def test_numbers_drop_full_width_digits_and_separators():
    assert normalize_number("１，０００") == "1000"
    assert normalize_number("100-499") == "100-499"


def test_clean_text_collapses_full_width_spaces():
    assert clean_text("　山田\u3000 太郎 ") == "山田 太郎"


@pytest.mark.parametrize("typed", ["=HYPERLINK(\"https://evil.example\",\"x\")", "@SUM(1+1)*cmd|' /C calc'!A0",
                                   "-2+3+cmd|' /C calc'!A0", "+81-3-1234-5678", "\t=1+1", "\r=1+1"])
def test_a_free_text_cell_that_starts_like_a_formula_opens_as_text(typed):
    assert spreadsheet_cell(typed) == "'" + typed


@pytest.mark.parametrize("value", ["株式会社サンプル", "a=b", "", -5, 12.5, None])
def test_other_cells_and_numbers_stay_as_they_are(value):
    assert spreadsheet_cell(value) == value
