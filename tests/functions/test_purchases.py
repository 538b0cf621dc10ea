"""Purchases and customers (issue 24): orders recorded through the sales API and `nurture purchases import`, each
once; the dispatcher's tick reviewing RFM scores and CPM segments when purchases change and when time moves a
customer, never all customers; a cross-sell sequence enrolling by product; erasure keeping anonymous totals. The
real sales API, dispatcher and scoring functions under moto, the clock moved with time_machine."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine

from nurture import keys
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.adapters.purchase_store import DynamoPurchaseStore
from nurture.config import load_config
from nurture.config.customers import CustomerScoring, RfmThresholds
from nurture.domain.clock import iso
from nurture.domain.customers.distribution import moves
from nurture.domain.customers.next_product import pair_moves, pairs
from nurture.domain.customers.purchases import plan_purchases, record_purchases
from nurture.domain.customers.review import DueReview, Recount, Standing, review_customers, standing_of
from nurture.domain.report import Period, build_report
from nurture.local.functions import api_request, invoke
from nurture.local.queues import scheduled_event
from nurture.local.resources import LocalResources
from tests.conftest import CONFIG_DIR
from tests.functions.helpers import TABLE_NAME, events_under, items_under, post_json, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")
# A Tuesday noon in Tokyo.
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
LICENCE = "在庫分析ライセンス"
ZONE = "Asia/Tokyo"
CONFIG = load_config(CONFIG_DIR)


def a_lead(name: str) -> str:
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        return submit("/v1/forms/whitepaper", {"email": f"{name}@maker.example.co.jp", "name": "金子 一郎",
                                               "company": "金子製作所", "consent": True})


def buy(*purchases: dict[str, Any], at: datetime = NOW) -> dict[str, Any]:
    with time_machine.travel(at, tick=False):
        return post_json("/v1/purchases", {"purchases": list(purchases)})


def order(order_id: str, email: str, on: str = "2026-11-30", amount: int = 120_000, product: str = LICENCE
          ) -> dict[str, Any]:
    return {"order_id": order_id, "email": email, "date": on, "amount": amount, "product": product}


def tick(at: datetime) -> dict[str, Any]:
    with time_machine.travel(at, tick=False):
        answer: dict[str, Any] = invoke("dispatcher", scheduled_event(LocalResources().region, at))
    return answer


def distribution() -> dict[str, int]:
    """The customers' distribution's counters that are not zero."""
    return {name: count for name, count in DynamoPurchaseStore(TABLE_NAME).distribution().items() if count}


def counted_anew(standing: Standing) -> Recount:
    """What a review that found its customer not counted yet moves."""
    return Recount(moves(None, standing.counted), pair_moves(set(), pairs(standing.firsts)))


def review_entry(lead_id: str) -> dict[str, Any] | None:
    found = items_under(keys.lead_pk(lead_id), keys.CUSTOMER_REVIEW_SK)
    return found[0] if found else None


def revenue(month: str) -> tuple[int, int]:
    shards = items_under(keys.revenue_pk(month))
    return sum(int(s["orders"]) for s in shards), sum(int(s["revenue"]) for s in shards)


def test_a_purchase_makes_the_lead_a_customer_once_per_order_id():
    lead_id = a_lead("kaneko")

    first = buy(order("A-1001", "Kaneko@Maker.example.co.jp"))
    again = buy(order("A-1001", "kaneko@maker.example.co.jp", amount=999))

    assert first["statusCode"] == 200, first["body"]
    assert json.loads(first["body"]) == {"recorded": 1, "unchanged": 0, "unknown_customers": [], "failed": []}
    assert json.loads(again["body"])["unchanged"] == 1
    (stored,) = items_under(keys.lead_pk(lead_id), keys.PURCHASE_PREFIX)
    assert (stored["order_id"], stored["on"], stored["amount"], stored["product"], stored["source"]) == (
        "A-1001", "2026-11-30", 120_000, LICENCE, "api")
    lead = profile(lead_id)
    assert lead["products"] == {LICENCE} and "customer_since" in lead
    (bought,) = [event for event in events_under(keys.lead_pk(lead_id)) if event["type"] == "purchase"]
    assert (bought["order_id"], bought["amount"]) == ("A-1001", 120_000)
    assert review_entry(lead_id) is not None  # reviewed on the next tick
    assert revenue("2026-11") == (1, 120_000)  # counted once, at the first amount


def test_unknown_customers_are_reported_and_a_bad_purchase_refuses_the_request_whole():
    lead_id = a_lead("kaneko")

    unknown = buy(order("B-1", "kaneko@maker.example.co.jp"), order("B-2", "nobody@example.jp"),
                  {"order_id": "B-3", "lead_id": "0" * 32, "date": "2026-11-30", "amount": 500})
    assert json.loads(unknown["body"]) == {"recorded": 1, "unchanged": 0, "unknown_customers": ["B-2", "B-3"],
                                           "failed": []}

    refused = buy(order("C-1", "kaneko@maker.example.co.jp"), order("C-2", "not-an-address"),
                  order("C-3", "kaneko@maker.example.co.jp", on="2026-12-02"))
    assert refused["statusCode"] == 422
    problems = {(p["field"], p["message"]) for p in json.loads(refused["body"])["errors"]}
    assert problems == {("purchases[1].email", "is not an email address"), ("purchases[2].date", "is after today")}
    assert "not-an-address" not in refused["body"]
    assert [p["order_id"] for p in items_under(keys.lead_pk(lead_id), keys.PURCHASE_PREFIX)] == ["B-1"]
    assert buy({"order_id": "D-1", "email": "kaneko@maker.example.co.jp", "date": "2026-11-30",
                "amount": -1})["statusCode"] == 422


def test_the_tick_reviews_a_customer_after_a_purchase_and_again_only_when_time_moves_its_standing():
    pipeline = Pipeline()
    lead_id = a_lead("kaneko")
    buy(order("A-1", "kaneko@maker.example.co.jp", on="2026-11-30", amount=30_000))

    answer = tick(NOW + timedelta(minutes=1))

    assert (answer["customers_reviewed"], answer["customers_moved"]) == (1, 1)
    customer = profile(lead_id)["customer"]
    assert {k: customer[k] for k in ("first", "last", "orders", "total", "recency", "frequency", "monetary",
                                     "segment")} == {
        "first": "2026-11-30", "last": "2026-11-30", "orders": 1, "total": 30_000, "recency": 5, "frequency": 1,
        "monetary": 2, "segment": "first_time"}
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        shown = json.loads(api_request("GET", f"/v1/leads/{lead_id}")["body"])["customer"]
    assert {k: shown[k] for k in ("segment", "segment_name", "rfm", "orders", "products")} == {
        "segment": "first_time", "segment_name": "初回客", "rfm": {"recency": 5, "frequency": 1, "monetary": 2},
        "orders": 1, "products": [LICENCE]}
    (moved,) = [e for e in events_under(keys.lead_pk(lead_id)) if e["type"] == "customer_segment"]
    assert ("from" not in moved, moved["to"], moved["rfm"]) == (True, "first_time", "R5F1M2")
    # Next due when recency first drops: 31 days after the purchase, at midnight in Tokyo.
    assert review_entry(lead_id)["due_sk"].startswith("2026-12-30T15:00:00")
    assert tick(NOW + timedelta(days=5))["customers_reviewed"] == 0  # nothing moves in between: nothing read

    assert tick(datetime(2026, 12, 30, 15, 1, tzinfo=UTC))["customers_reviewed"] == 1
    assert profile(lead_id)["customer"]["recency"] == 4
    assert [e["type"] for e in events_under(keys.lead_pk(lead_id))].count("customer_segment") == 1  # no move

    # A second purchase: a toddler (よちよち客) at once, the move on the timeline and scored like any activity.
    buy(order("A-2", "kaneko@maker.example.co.jp", on="2027-01-05", amount=20_000), at=datetime(2027, 1, 5, 3,
                                                                                               tzinfo=UTC))
    assert tick(datetime(2027, 1, 5, 3, 1, tzinfo=UTC))["customers_moved"] == 1
    assert profile(lead_id)["customer"]["segment"] == "toddler"
    pipeline.drain()
    moves = [(e.get("from"), e["to"]) for e in events_under(keys.lead_pk(lead_id)) if e["type"] == "customer_segment"]
    assert moves == [(None, "first_time"), ("first_time", "toddler")]


def test_a_purchase_of_the_licence_enrols_the_customer_in_the_cross_sell_sequence():
    pipeline = Pipeline()
    lead_id = a_lead("kaneko")
    pipeline.drain()
    assert profile(lead_id)["sequence"]["sequence"] != "cross_sell"

    with time_machine.travel(NOW, tick=False):
        buy(order("A-1", "kaneko@maker.example.co.jp"))
        pipeline.drain()

    assert profile(lead_id)["sequence"]["sequence"] == "cross_sell"
    assert profile(lead_id)["sequence"]["step"] == 0


def test_a_purchases_file_is_imported_once_and_rows_of_unknown_customers_are_reported():
    lead_id = a_lead("kaneko")
    sheet = "\r\n".join([
        "注文番号,購入日,メールアドレス,金額,商品名",
        "E-1,2026/11/20,kaneko@maker.example.co.jp,\"12,800円\",研修",
        "E-2,2026/11/21,nobody@example.jp,5000,研修",
        "E-3,2026/11/22,kaneko@maker.example.co.jp,-1,返品",
        ""]).encode("cp932")
    plan = plan_purchases(sheet, ZONE, NOW.date())
    store = DynamoPurchaseStore(TABLE_NAME)

    first = record_purchases(plan.purchases, store, NOW, ZONE, 730, "import")
    again = record_purchases(plan.purchases, store, NOW, ZONE, 730, "import")

    assert [(r.row, r.reasons) for r in plan.rejected] == [(4, ["amount: is negative"])]
    assert (first.recorded, first.unknown_customers, again.recorded, again.unchanged) == (1, [3], 0, 1)
    (stored,) = items_under(keys.lead_pk(lead_id), keys.PURCHASE_PREFIX)
    assert (stored["amount"], stored["source"]) == (12_800, "import")
    assert profile(lead_id)["products"] == {"研修"}


def test_erasing_a_customer_removes_its_purchases_but_keeps_the_anonymous_totals():
    lead_id = a_lead("kaneko")
    buy(order("A-1", "kaneko@maker.example.co.jp"), order("A-2", "kaneko@maker.example.co.jp", on="2026-10-02",
                                                          amount=5_000))

    assert api_request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204

    assert items_under(keys.lead_pk(lead_id)) == []  # purchases, review entry and activity with the lead
    assert (revenue("2026-11"), revenue("2026-10")) == ((1, 120_000), (1, 5_000))
    assert all(lead_id not in json.dumps(item, default=str) for month in ("2026-10", "2026-11")
               for item in items_under(keys.revenue_pk(month)))
    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 0


def test_the_report_reads_customers_from_the_table_and_an_erased_ones_revenue_stays_in_its_month():
    a_lead("kaneko")
    erased = a_lead("sato")
    buy(order("A-1", "kaneko@maker.example.co.jp", on="2026-11-10", amount=30_000),
        order("B-1", "sato@maker.example.co.jp", on="2026-11-12", amount=50_000))
    assert api_request("DELETE", f"/v1/leads/{erased}")["statusCode"] == 204
    zone = ZoneInfo(ZONE)

    report = build_report(DynamoLeadStore(TABLE_NAME).report_items(), Period(date(2026, 11, 1), date(2026, 11, 30),
                                                                              zone),
                          CONFIG.sequences, CONFIG.scoring, NOW)

    customers = report["customers"]
    assert customers["customers"] == 1 and customers["migration"] == {"new": {"first_time": 1}}
    assert customers["monthly"] == [{"month": "2026-11", "orders": 2, "revenue": 80_000}]
    assert {row["segment"]: row["revenue_in_period"] for row in customers["by_segment"]}["first_time"] == 30_000


def test_a_purchase_recorded_while_a_review_reads_makes_that_review_save_nothing():
    lead_id = a_lead("kaneko")
    buy(order("A-1", "kaneko@maker.example.co.jp"))
    store = DynamoPurchaseStore(TABLE_NAME)
    (due,) = store.customers_due(iso(NOW + timedelta(minutes=1)), 10)
    found = store.customer(lead_id)
    assert found is not None

    buy(order("A-2", "kaneko@maker.example.co.jp"))  # the same moment: the same review entry, one more purchase

    standing = standing_of(found[1], date(2026, 12, 1), CustomerScoring())
    assert store.save_review(due, standing, [], None, len(found[1]), None, counted_anew(standing)) is False
    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 1
    assert profile(lead_id)["customer"]["orders"] == 2


def test_each_customer_is_counted_once_in_the_distribution_and_moves_with_its_purchases_and_its_erasure():
    kaneko, sato = a_lead("kaneko"), a_lead("sato")
    buy(order("A-1", "kaneko@maker.example.co.jp", on="2026-11-30", amount=30_000),
        order("B-1", "sato@maker.example.co.jp", on="2026-10-12", amount=120_000))
    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 2
    counted = {"n": 2, "f#1": 2, "m#44": 1, "m#50": 1, "r#2026-11": 1, "r#2026-10": 1}
    assert distribution() == counted

    # A review that read the customer before it was counted saves nothing (a tick retried, two ticks at once).
    store = DynamoPurchaseStore(TABLE_NAME)
    found, entry = store.customer(kaneko), review_entry(kaneko)
    assert found is not None and entry is not None
    standing = standing_of(found[1], date(2026, 12, 1), CustomerScoring())
    assert store.save_review(DueReview(kaneko, entry["due_sk"]), standing, [], None, 1, None,
                             counted_anew(standing)) is False
    assert tick(NOW + timedelta(minutes=2))["customers_reviewed"] == 0
    assert distribution() == counted

    # A second purchase moves its customer's buckets: one order more, a higher total, a later month.
    buy(order("A-2", "kaneko@maker.example.co.jp", on="2026-12-01", amount=20_000), at=NOW + timedelta(hours=1))
    assert tick(NOW + timedelta(hours=1, minutes=1))["customers_reviewed"] == 1
    assert distribution() == {"n": 2, "f#1": 1, "f#2": 1, "m#46": 1, "m#50": 1, "r#2026-12": 1, "r#2026-10": 1}

    assert api_request("DELETE", f"/v1/leads/{sato}")["statusCode"] == 204
    assert distribution() == {"n": 1, "f#2": 1, "m#46": 1, "r#2026-12": 1}
    assert api_request("DELETE", f"/v1/leads/{sato}")["statusCode"] == 404  # erased once: counted out once
    assert distribution() == {"n": 1, "f#2": 1, "m#46": 1, "r#2026-12": 1}


def test_with_quantiles_a_fifth_of_the_customers_gets_each_score_once_enough_are_counted():
    scoring = CustomerScoring(rfm=RfmThresholds(scores_by="quantiles", quantiles_from=5))
    store = DynamoPurchaseStore(TABLE_NAME)
    spent = [3_000, 8_000, 20_000, 60_000, 200_000]
    buyers = [a_lead(f"buyer{n}") for n in range(5)]
    for n, amount in enumerate(spent):
        buy(order(f"Q-{n}", f"buyer{n}@maker.example.co.jp", on=f"2026-{7 + n:02d}-15", amount=amount))
    first = review_customers(store, NOW + timedelta(minutes=1), scoring, ZONE, 730)
    assert first.reviewed == 5
    # The first reviews saw nobody counted: the fixed thresholds scored them.
    assert [profile(lead_id)["customer"]["monetary"] for lead_id in buyers] == [1, 1, 2, 3, 4]

    buy(*(order(f"R-{n}", f"buyer{n}@maker.example.co.jp", on="2026-11-30", amount=1) for n in range(5)),
        at=NOW + timedelta(hours=1))
    assert review_customers(store, NOW + timedelta(hours=1, minutes=1), scoring, ZONE, 730).reviewed == 5
    # Then each fifth of five customers is one customer: monetary 1 to 5 by what they spent, whatever the lines.
    assert [profile(lead_id)["customer"]["monetary"] for lead_id in buyers] == [1, 2, 3, 4, 5]
    assert [profile(lead_id)["customer"]["recency"] for lead_id in buyers] == [5, 5, 5, 5, 5]  # all bought today


def test_a_customer_is_offered_what_customers_who_bought_the_same_bought_next():
    pipeline = Pipeline()
    buyers = {name: a_lead(name) for name in ("ito", "kato", "saito", "endo", "goto")}
    for name in ("ito", "kato", "saito"):  # three bought the training after the licence, one support after it
        buy(order(f"{name}-1", f"{name}@maker.example.co.jp", on="2026-06-01", product=LICENCE),
            order(f"{name}-2", f"{name}@maker.example.co.jp", on="2026-08-01", product="研修"))
    buy(order("endo-1", "endo@maker.example.co.jp", on="2026-06-01", product=LICENCE),
        order("endo-2", "endo@maker.example.co.jp", on="2026-07-01", product="保守サポート v2.0"))  # a "." too
    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 4
    buy(order("goto-1", "goto@maker.example.co.jp", on="2026-11-30", product=LICENCE), at=NOW + timedelta(hours=1))
    assert tick(NOW + timedelta(hours=1, minutes=1))["customers_reviewed"] == 1

    assert profile(buyers["goto"])["customer"]["next_product"] == "研修"
    assert "next_product" not in profile(buyers["ito"])["customer"]  # its latest, the training, led nowhere yet
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        shown = json.loads(api_request("GET", f"/v1/leads/{buyers['goto']}")["body"])["customer"]
    assert shown["next_product"] == "研修"
    pipeline.drain()  # on the timeline, and scored like any activity: a sequence may enrol by it
    told = [e for e in events_under(keys.lead_pk(buyers["goto"])) if e["type"] == "customer_next_product"]
    assert [e["product"] for e in told] == ["研修"]
    # Each customer's pairs are counted once, however often it is reviewed; erasure keeps the anonymous counts.
    assert DynamoPurchaseStore(TABLE_NAME).next_products(LICENCE) == {"研修": 3, "保守サポート v2.0": 1}
    assert api_request("DELETE", f"/v1/leads/{buyers['ito']}")["statusCode"] == 204
    assert DynamoPurchaseStore(TABLE_NAME).next_products(LICENCE) == {"研修": 3, "保守サポート v2.0": 1}


def test_a_customer_past_every_line_is_reviewed_again_when_it_buys_again():
    lead_id = a_lead("kaneko")
    buy(order("A-1", "kaneko@maker.example.co.jp", on="2026-11-30", amount=30_000))
    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 1
    later = NOW + timedelta(days=400)  # every recency line and the lapse passed: no review is due any more
    for day in (31, 91, 181, 366):
        tick(NOW + timedelta(days=day, hours=16))
    assert profile(lead_id)["customer"]["segment"] == "lapsed_first_time"
    assert tick(later)["customers_reviewed"] == 0

    buy(order("A-2", "kaneko@maker.example.co.jp", on="2028-01-05", amount=30_000), at=later)
    assert tick(later + timedelta(minutes=1))["customers_reviewed"] == 1
    assert profile(lead_id)["customer"]["orders"] == 2


def test_an_erasure_that_read_its_customer_before_a_review_counted_it_takes_it_out_all_the_same(monkeypatch):
    lead_id = a_lead("kaneko")
    buy(order("A-1", "kaneko@maker.example.co.jp"))
    store = DynamoLeadStore(TABLE_NAME)
    before_review = store.profile(lead_id)
    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 1
    assert distribution()["n"] == 1
    reads = iter([before_review])  # the erasure's first read is from before the review; then it reads afresh
    fresh = store.profile
    monkeypatch.setattr(store, "profile", lambda *args: next(reads, None) or fresh(*args))

    assert store.erase(lead_id)

    assert distribution() == {}


def test_a_review_entry_an_older_version_began_again_at_one_purchase_is_mended_not_stuck():
    lead_id = a_lead("kaneko")
    buy(order("A-1", "kaneko@maker.example.co.jp", on="2026-10-01"), order("A-2", "kaneko@maker.example.co.jp"))
    # As an older version left it: the entry deleted after its last review, begun again by a purchase at one.
    boto3.client("dynamodb").update_item(
        TableName=TABLE_NAME, Key={"PK": {"S": keys.lead_pk(lead_id)}, "SK": {"S": keys.CUSTOMER_REVIEW_SK}},
        UpdateExpression="SET purchases = :one", ExpressionAttributeValues={":one": {"N": "1"}})

    assert tick(NOW + timedelta(minutes=1))["customers_reviewed"] == 1
    assert int(review_entry(lead_id)["purchases"]) == 2
    assert profile(lead_id)["customer"]["orders"] == 2
