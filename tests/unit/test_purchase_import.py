"""Reading a purchases CSV (issue 24): Japanese headers and Shift_JIS, amounts as spreadsheets show them, bad rows
reported by number and skipped alone, an order counted once."""

from __future__ import annotations

from datetime import date

import pytest

from nurture.config.customers import CustomerScoring
from nurture.domain.customers.purchases import parse_amount, plan_purchases
from nurture.domain.customers.review import Bought, standing_of
from nurture.domain.importing import ImportRefused
from nurture.domain.text import email_key, normalize_email

ZONE = "Asia/Tokyo"
TODAY = date(2026, 12, 1)
LEAD = "0123456789abcdef0123456789abcdef"


def csv_bytes(lines: list[str], encoding: str = "cp932") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.mark.parametrize(("text", "yen"), [("12800", 12800), ("12,800", 12800), ("¥12,800", 12800),
                                           ("12,800円", 12800), ("１２，８００円", 12800), ("0", 0),
                                           ("\\12,800", 12800)])  # Excel's ¥ in Shift_JIS reads as a backslash
def test_amounts_are_read_as_a_spreadsheet_shows_yen(text, yen):
    assert parse_amount(text) == yen


@pytest.mark.parametrize("text", ["", "-500", "12.5", "1,2,3", "twelve", "=1+1"])
def test_anything_else_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_a_shift_jis_file_with_japanese_headers_is_read_and_bad_rows_are_reported_by_number():
    plan = plan_purchases(csv_bytes([
        "注文番号,購入日,メールアドレス,金額,商品名",
        "A-1001,2026/11/20,Taro@Example.co.jp,\"12,800円\",在庫分析ライセンス",
        "A-1002,2026年11月21日,hanako@example.co.jp,-500,返品",
        "A-1003,昨日,jiro@example.co.jp,3000,研修",
        "A-1004,2026-11-22,not-an-address,3000,研修",
        "A-1001,2026/11/20,Taro@Example.co.jp,12800,在庫分析ライセンス",
        "A-1005,2026/12/02,saburo@example.co.jp,3000,研修",
        "",
    ]), ZONE, TODAY)
    assert plan.encoding == "cp932" and plan.rows == 6
    (bought,) = plan.purchases
    assert (bought.row, bought.order_id, bought.on, bought.amount, bought.product) == (
        2, "A-1001", date(2026, 11, 20), 12800, "在庫分析ライセンス")
    assert bought.customer == email_key(normalize_email("Taro@Example.co.jp"))
    assert [(r.row, r.reasons) for r in plan.rejected] == [
        (3, ["amount: is negative"]),
        (4, ["date: is not a date (2026/11/20, 2026-11-20 or 2026年11月20日)"]),
        (5, ["email: is not an email address"]),
        (7, ["date: is after today"])]
    assert plan.repeated_orders == 1  # the same order again: counted once
    assert "not-an-address" not in repr(plan.rejected)


def test_a_customer_may_be_named_by_lead_id_and_english_headers_are_read():
    plan = plan_purchases(csv_bytes(["Order ID,Order Date,Lead ID,Total,SKU",
                                     f"B-1,2026-10-01,{LEAD.upper()},5000,ABC-1"], "utf-8"), ZONE, TODAY)
    (bought,) = plan.purchases
    assert (bought.customer, bought.amount, bought.product) == (f"lead:{LEAD}", 5000, "ABC-1")


def test_a_file_without_an_order_date_amount_or_customer_column_is_refused_whole():
    with pytest.raises(ImportRefused, match="注文番号"):
        plan_purchases(csv_bytes(["購入日,メールアドレス,金額", "2026/11/20,a@example.jp,100"]), ZONE, TODAY)
    with pytest.raises(ImportRefused, match="email or lead id"):
        plan_purchases(csv_bytes(["注文番号,購入日,金額", "A,2026/11/20,100"]), ZONE, TODAY)


def test_a_customers_purchases_sum_up_for_rfm_and_cpm():
    plan = plan_purchases(csv_bytes(["注文番号,購入日,メールアドレス,金額",
                                     "1,2025/12/01,a@example.jp,1000", "2,2026/06/01,a@example.jp,2500",
                                     "3,2026/03/01,a@example.jp,500"]), ZONE, TODAY)
    standing = standing_of([Bought(p.on, p.amount) for p in plan.purchases], TODAY, CustomerScoring())
    totals = standing.purchases
    assert (totals.first, totals.last, totals.count, totals.total) == (date(2025, 12, 1), date(2026, 6, 1), 3, 4000)


def test_a_date_with_an_offset_counts_on_its_day_in_tokyo_and_invisible_characters_make_no_new_order():
    plan = plan_purchases(csv_bytes(["注文番号,購入日,メールアドレス,金額",
                                     "A-1,2026-11-30T20:00:00Z,a@example.jp,1000",
                                     "A-1\u200b,2026-11-30,a@example.jp,1000"], "utf-8"), ZONE, TODAY)
    (bought,) = plan.purchases
    assert bought.on == date(2026, 12, 1) and plan.repeated_orders == 1
