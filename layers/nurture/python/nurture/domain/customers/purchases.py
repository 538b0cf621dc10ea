"""Purchases from a CSV file (`nurture purchases import`, issue 24): each row a customer (email address or lead
id), an order id, a date, an amount and a product, with Japanese or English headers and the encodings the lead
import reads (UTF-8, UTF-16 with its BOM, Shift_JIS). A row that cannot be read is reported by its row number and
skipped alone; an order id seen twice in a file counts once (and once in the store: orders are idempotent)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from nurture.domain.customers.rfm import Purchases
from nurture.domain.importing import ImportRefused, Rejected, column_mapping, decode, parse_moment
from nurture.domain.text import InvalidEmail, email_key, normalize_email

# Header (NFKC-folded, lower case, without spaces, '_' or '-') -> field.
PURCHASE_HEADERS = {
    **dict.fromkeys(["メールアドレス", "メール", "email", "mail", "emailaddress", "customeremail"], "email"),
    **dict.fromkeys(["リードid", "顧客id", "leadid", "customerid"], "lead_id"),
    **dict.fromkeys(["注文番号", "注文id", "受注番号", "伝票番号", "orderid", "ordernumber", "order"], "order_id"),
    **dict.fromkeys(["購入日", "注文日", "受注日", "日付", "date", "orderdate", "purchasedate"], "date"),
    **dict.fromkeys(["金額", "購入金額", "合計", "合計金額", "売上", "amount", "total", "price"], "amount"),
    **dict.fromkeys(["商品", "商品名", "品名", "product", "productname", "item", "sku"], "product"),
}
_AMOUNT = re.compile(r"-?\d{1,3}(?:,\d{3})+|-?\d+")
_LEAD_ID = re.compile(r"[0-9a-f]{32}")
MAX_PRODUCT = 200


@dataclass(frozen=True)
class Purchase:
    row: int  # as a spreadsheet numbers it: the header is row 1
    customer: str  # the address's key (a hash: no address is kept here) or "lead:<id>"
    order_id: str
    on: date
    amount: int  # yen
    product: str


@dataclass
class PurchasePlan:
    encoding: str
    rows: int = 0
    purchases: list[Purchase] = field(default_factory=list)
    repeated_orders: int = 0  # rows whose order id an earlier row had: counted once
    rejected: list[Rejected] = field(default_factory=list)


def parse_amount(text: str) -> int:
    """Yen as a spreadsheet shows them: 12,800 / ¥12,800 / 12800円 / full-width digits. ValueError otherwise,
    and for a negative amount (a refund is not a purchase)."""
    value = unicodedata.normalize("NFKC", text).strip().removeprefix("¥").removesuffix("円").replace(" ", "")
    if not _AMOUNT.fullmatch(value):
        raise ValueError("is not an amount in yen")
    amount = int(value.replace(",", ""))
    if amount < 0:
        raise ValueError("is negative")
    return amount


def plan_purchases(data: bytes, zone: str, encoding: str | None = None) -> PurchasePlan:
    """The file's readable purchases and its unreadable rows; ImportRefused when the file as a whole cannot be
    read (its encoding, or a column it must have)."""
    text, used = decode(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = next(reader, None)
    if not headers:
        raise ImportRefused("The file is empty: the first row must name the columns.")
    mapping = column_mapping(headers, table=PURCHASE_HEADERS)
    present = set(mapping.values())
    missing = [name for name in ("order_id", "date", "amount") if name not in present]
    if missing or not present & {"email", "lead_id"}:
        raise ImportRefused("Name the columns 注文番号 (order id), 購入日 (date), 金額 (amount) and the customer's "
                            "メールアドレス (email) or リードID (lead id): " + ", ".join(
                                missing + ([] if present & {"email", "lead_id"} else ["email or lead id"])) +
                            " not found.")
    plan = PurchasePlan(encoding=used)
    seen: set[str] = set()
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue  # the blank lines spreadsheets leave at the end
        plan.rows += 1
        cells = {name: row[index].strip() if index < len(row) else "" for index, name in mapping.items()}
        reasons: list[str] = []
        customer = _customer(cells, reasons)
        order_id = unicodedata.normalize("NFKC", cells["order_id"])
        if not order_id or len(order_id) > 100:
            reasons.append("order id: missing or over 100 characters")
        on = None
        try:
            on = parse_moment(cells["date"], zone).date()
        except ValueError:
            reasons.append("date: is not a date (2026/11/20, 2026-11-20 or 2026年11月20日)")
        amount = None
        try:
            amount = parse_amount(cells["amount"])
        except ValueError as error:
            reasons.append(f"amount: {error}")
        if reasons or customer is None or on is None or amount is None:
            plan.rejected.append(Rejected(row_number, reasons))
            continue
        if order_id in seen:
            plan.repeated_orders += 1
            continue
        seen.add(order_id)
        plan.purchases.append(Purchase(row_number, customer, order_id, on, amount,
                                       cells.get("product", "")[:MAX_PRODUCT]))
    return plan


def _customer(cells: dict[str, str], reasons: list[str]) -> str | None:
    """Who bought: by address when the row has one (as the lead import finds leads), else by lead id."""
    if cells.get("email"):
        try:
            return email_key(normalize_email(cells["email"]))
        except InvalidEmail:
            reasons.append("email: is not an email address")  # never the address itself: it is personal data
            return None
    lead_id = cells.get("lead_id", "").lower()
    if _LEAD_ID.fullmatch(lead_id):
        return f"lead:{lead_id}"
    reasons.append("customer: no email address or lead id")
    return None


def summary(purchases: Iterable[Purchase]) -> Purchases:
    """What RFM and CPM read of one customer's purchases."""
    bought = list(purchases)
    if not bought:
        raise ValueError("a customer has a purchase or more")
    days = [purchase.on for purchase in bought]
    return Purchases(first=min(days), last=max(days), count=len(bought), total=sum(p.amount for p in bought))
