"""Purchases (issue 24), from a CSV file (`nurture purchases import`) or the sales API (`POST /v1/purchases`): each
a customer (email address or lead id), an order id, a date, an amount and a product. A file has Japanese or English
headers and the encodings the lead import reads (UTF-8, UTF-16 with its BOM, Shift_JIS). A row that cannot be read,
and a row whose customer is no lead, is reported by its row number and skipped alone; an order id counts once, in
a file and in the store, so running an import again changes nothing.

A recorded purchase makes its lead a customer (its history stays), is on its timeline as a `purchase` activity
(scoring.yaml's rules may score it), adds its product to the lead's `products`, counts toward its month's anonymous
revenue, and brings the customer's RFM scores and CPM segment up for review at once (`review`)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from msgspec import Struct, field

from nurture.domain.activity import Activity, new_activity
from nurture.domain.clock import iso
from nurture.domain.errors import LeadGone, NurtureError
from nurture.domain.importing import ImportRefused, Rejected, column_mapping, decode, parse_moment
from nurture.domain.text import InvalidEmail, clean_text, email_key, normalize_email

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
MAX_PRODUCT, MAX_ORDER_ID = 200, 100
PURCHASE = "purchase"  # the activity type of a recorded purchase
Source = Literal["import", "api"]


class Purchase(Struct, frozen=True):
    row: int  # as a spreadsheet numbers it (the header is row 1); through the API, its place in the list from 1
    customer: str  # the address's key (a hash: no address is kept here) or "lead:<id>"
    order_id: str
    on: date
    amount: int  # yen
    product: str


class PurchasePlan(Struct):
    encoding: str
    rows: int = 0
    purchases: list[Purchase] = field(default_factory=list)
    repeated_orders: int = 0  # rows whose order id an earlier row had: counted once
    rejected: list[Rejected] = field(default_factory=list)


def parse_amount(text: str) -> int:
    """Yen as a spreadsheet shows them: 12,800 / ¥12,800 / 12800円 / full-width digits. ValueError otherwise,
    and for a negative amount (a refund is not a purchase)."""
    # Excel's ¥ in a Shift_JIS file is byte 0x5C, which reads as a backslash.
    value = unicodedata.normalize("NFKC", text).strip().lstrip("¥\\").removesuffix("円").replace(" ", "")
    if not _AMOUNT.fullmatch(value):
        raise ValueError("is not an amount in yen")
    amount = int(value.replace(",", ""))
    if amount < 0:
        raise ValueError("is negative")
    return amount


def plan_purchases(data: bytes, zone: str, today: date, encoding: str | None = None) -> PurchasePlan:
    """The file's readable purchases and its unreadable rows (a date after `today` too); ImportRefused when the file
    as a whole cannot be read (its encoding, or a column it must have)."""
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
        problems: list[tuple[str, str]] = []
        on = None
        try:
            on = parse_moment(cells["date"], zone).astimezone(ZoneInfo(zone)).date()
        except ValueError:
            problems.append(("date", "is not a date (2026/11/20, 2026-11-20 or 2026年11月20日)"))
        amount = None
        try:
            amount = parse_amount(cells["amount"])
        except ValueError as error:
            problems.append(("amount", str(error)))
        purchase = purchase_of(row_number, cells.get("email"), cells.get("lead_id"), cells["order_id"], on, amount,
                               cells.get("product", ""), today, problems)
        if purchase is None:
            plan.rejected.append(Rejected(row_number, [f"{name}: {message}" for name, message in problems]))
        elif purchase.order_id in seen:
            plan.repeated_orders += 1
        else:
            seen.add(purchase.order_id)
            plan.purchases.append(purchase)
    return plan


def purchase_of(row: int, email: str | None, lead_id: str | None, order_id: str, on: date | None,
                amount: int | None, product: str, today: date, problems: list[tuple[str, str]]) -> Purchase | None:
    """A purchase from what a row or a request said (its date and amount already read), or None with what is wrong
    added to `problems` as (field, message). The file and the API check alike."""
    customer = None
    try:
        customer = customer_ref(email, lead_id)
    except InvalidCustomer as error:
        problems.append((error.field, str(error)))
    order = clean_text(unicodedata.normalize("NFKC", order_id))  # "A-1" with a zero-width space is "A-1"
    if not order or len(order) > MAX_ORDER_ID:
        problems.append(("order_id", f"missing or over {MAX_ORDER_ID} characters"))
    if on is not None and on > today:
        problems.append(("date", "is after today"))
    if problems or customer is None or on is None or amount is None:
        return None
    return Purchase(row, customer, order, on, amount, clean_text(product)[:MAX_PRODUCT])


class InvalidCustomer(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def customer_ref(email: str | None, lead_id: str | None) -> str:
    """Who bought: by address when there is one (as the lead import finds leads), else by lead id; InvalidCustomer
    naming what is wrong, never echoing the address (it is personal data)."""
    if email:
        try:
            return email_key(normalize_email(email))
        except InvalidEmail:
            raise InvalidCustomer("email", "is not an email address") from None
    folded = (lead_id or "").lower()
    if _LEAD_ID.fullmatch(folded):
        return f"lead:{folded}"
    raise InvalidCustomer("customer", "no email address or lead id")


# --- recording ----------------------------------------------------------------------------------------------------

class PurchaseStore(Protocol):
    def find_lead_id(self, email_key: str) -> str | None: ...

    def record_purchase(self, lead_id: str, purchase: Purchase, activity: Activity | None, review_at: str,
                        recorded_at: str, source: Source) -> bool:
        """The purchase under its lead, with its activity, the lead's products, its month's revenue and the
        customer's review due at `review_at`, all at once: False (nothing written) when its order id was recorded
        before; LeadGone when the lead does not exist."""
        ...


class PurchaseOutcome(Struct):
    recorded: int = 0
    unchanged: int = 0  # orders recorded before (an earlier run of the same file, a retried request)
    unknown_customers: list[int] = field(default_factory=list)  # rows whose address or lead id is no lead's
    failed: list[Rejected] = field(default_factory=list)  # the store refused: retried by sending them again


def record_purchases(purchases: list[Purchase], store: PurchaseStore, now: datetime, zone: str, retention_days: int,
                     source: Source, progress: Callable[[int, int], None] = lambda done, total: None
                     ) -> PurchaseOutcome:
    """Record each purchase on its customer's lead, once per order id; a purchase whose customer is no lead, or that
    the store refuses, is reported by its row and skips only itself."""
    outcome = PurchaseOutcome()
    for done, purchase in enumerate(purchases, start=1):
        try:
            lead_id = _lead_of(purchase.customer, store)
            if lead_id is None:
                outcome.unknown_customers.append(purchase.row)
            elif store.record_purchase(lead_id, purchase, _activity(lead_id, purchase, now, zone, retention_days,
                                                                    source), iso(now), iso(now), source):
                outcome.recorded += 1
            else:
                outcome.unchanged += 1
        except LeadGone:
            outcome.unknown_customers.append(purchase.row)
        except NurtureError as error:
            outcome.failed.append(Rejected(purchase.row, [str(error)]))
        progress(done, len(purchases))
    return outcome


def _lead_of(customer: str, store: PurchaseStore) -> str | None:
    return customer.removeprefix("lead:") if customer.startswith("lead:") else store.find_lead_id(customer)


def _activity(lead_id: str, purchase: Purchase, now: datetime, zone: str, retention_days: int,
              source: Source) -> Activity | None:
    """The purchase on the lead's timeline, at noon of its day (a date has no time); none for a purchase older
    than the activity kept (its record still counts toward RFM and CPM)."""
    at = min(datetime.combine(purchase.on, time(12), ZoneInfo(zone)), now)
    if at <= now - timedelta(days=retention_days):
        return None
    return new_activity(PURCHASE, at, retention_days, {
        "lead_id": lead_id, "order_id": purchase.order_id, "amount": purchase.amount, "product": purchase.product,
        "source": source})
