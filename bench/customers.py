"""The customers' daily review (issue 24) over 10,000 and 100,000 customers on the emulator: the same customers
due (their purchases changed, or a recency line passed) among ever more customers, reviewed by the dispatcher's
tick until none is due. Its cost must follow the customers due, not all customers."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.calls import counted_dynamodb
from bench.cost import PriceList
from bench.profiles import bulk_load, profile
from bench.units import READ_UNIT, item_size, read_units, write_units

POPULATIONS = (10_000, 100_000)
DUE = 300  # customers due on the day: a shop's day of orders, and those whose standing moves with time
PURCHASES_EACH = 3
# Bought in this order: a review counts the pairs of two earlier products.
PRODUCTS = ("在庫分析ライセンス", "研修", "保守サポート")
NOW = datetime(2026, 12, 1, 15, 5, tzinfo=UTC)  # just after midnight in Tokyo


def _customer(n: int, due: bool) -> list[dict[str, Any]]:
    """Customer `n`'s profile (reviewed before), its review entry (due now or in the coming weeks), purchases."""
    from nurture import keys
    from nurture.adapters.dynamo import to_item
    from nurture.domain.clock import iso

    lead_id = f"{n:032x}"
    bought = [date(2026, 11, 30) - timedelta(days=40 * k + n % 30) for k in range(PURCHASES_EACH)]
    review_at = NOW - timedelta(minutes=5) if due else NOW + timedelta(days=1 + n % 60)
    standing = {"first": min(bought).isoformat(), "last": max(bought).isoformat(), "orders": PURCHASES_EACH,
                "total": 36_000, "recency": 4, "frequency": 3, "monetary": 2, "segment": "toddler",
                "reviewed_on": "2026-11-01"}
    return [profile(n, customer_since="2026-06-01T00:00:00.000000Z", products=set(PRODUCTS), customer=standing),
            to_item({"PK": keys.lead_pk(lead_id), "SK": keys.CUSTOMER_REVIEW_SK, "lead_id": lead_id,
                     "due_pk": keys.CUSTOMERS_DUE, "due_sk": keys.due_sk(iso(review_at), lead_id),
                     "purchases": PURCHASES_EACH}),
            *[to_item({"PK": keys.lead_pk(lead_id), "SK": keys.purchase_sk(f"O-{n}-{k}"), "lead_id": lead_id,
                       "order_id": f"O-{n}-{k}", "on": day.isoformat(), "amount": 12_000,
                       "product": PRODUCTS[-1 - k],
                       "source": "import", "recorded_at": "2026-11-30T01:00:00.000000Z"})
              for k, day in enumerate(bought)]]


def daily_reviews(populations: tuple[int, ...] = POPULATIONS) -> list[tuple[int, dict[str, Any]]]:
    from nurture.local import emulator

    emulator.install()  # as the local runtime runs moto: a query reads its index, not the whole table
    return [(population, _review_day(population)) for population in populations]


def _review_day(population: int) -> dict[str, Any]:
    from nurture import keys
    from nurture.adapters.purchase_store import DynamoPurchaseStore
    from nurture.config.customers import CustomerScoring
    from nurture.domain.customers.review import review_customers
    from nurture.local.resources import LocalResources

    table = LocalResources().table_name
    with counted_dynamodb() as counter:
        items = [item for n in range(population) for item in _customer(n, n < DUE)]
        bulk_load(table, items)
        store, scoring = DynamoPurchaseStore(table), CustomerScoring()
        ticks: list[Any] = []

        def review_until_none_due() -> None:
            while not ticks or ticks[-1].reviewed:
                ticks.append(review_customers(store, NOW, scoring, "Asia/Tokyo", 730))

        began = time.perf_counter()
        measured = counter.measure(review_until_none_due)
        seconds = time.perf_counter() - began
        profile_bytes = item_size(items[0])
        entry_bytes, purchase_bytes = item_size(items[1]), item_size(items[2])
        distribution_bytes = item_size({"PK": {"S": keys.CUSTOMER_DISTRIBUTION_PK},
                                        "SK": {"S": keys.CUSTOMER_DISTRIBUTION_SK},
                                        **{name: {"N": str(count)} for name, count in store.distribution().items()}})
    reviewed = sum(tick.reviewed for tick in ticks)
    moved = sum(tick.moved for tick in ticks)
    # DynamoDB's rules applied to what each call touched: an index page is billed on the entries it read
    # (eventually consistent); a profile read and a customer's purchases are strongly consistent reads; a
    # transaction's item costs twice its write units. A review writes the profile, its next entry and, on a
    # move, the activity (about 300 bytes); each review moves its customer in the customers' distribution (one item,
    # counted at its final size) and, for each earlier product of its pairs, that product's counts of what followed
    # (an item of about 150 bytes); the tick reads the distribution when scores are by quantiles (not here).
    pages = measured["calls"].get("Query", 0) - reviewed
    index_reads = pages * read_units(min(READ_UNIT, 200 * entry_bytes), consistent=False)
    customer_reads = reviewed * (read_units(profile_bytes, True) + read_units(PURCHASES_EACH * purchase_bytes, True))
    writes = 2 * (reviewed * (write_units(profile_bytes + 200) + write_units(entry_bytes)
                              + write_units(distribution_bytes) + (len(PRODUCTS) - 1) * write_units(150))
                  + moved * write_units(300))
    return {"reviewed": reviewed, "moved": moved, "ticks": len(ticks), "calls": measured["calls"],
            "read_units": index_reads + customer_reads, "write_units": writes, "seconds": seconds}


def markdown(rows: list[tuple[int, dict[str, Any]]]) -> list[str]:
    lines = [
        "## Customers' daily review",
        "",
        f"{DUE} customers due (purchases changed, or a recency line passed) among ever more customers, each with",
        f"{PURCHASES_EACH} purchases, reviewed by the dispatcher's tick ({rows[0][1]['ticks']} ticks of at most 200)",
        "until none is due, on the emulator. Units are DynamoDB's rules applied to what each call touched (an",
        "index page billed on the entries it read, eventually consistent; a profile and a customer's purchases",
        "read strongly consistent; a transaction's items twice their write units). Aim: the same whatever the",
        "number of customers.",
        "",
        "| customers | reviewed | moved segment | queries | reads (GetItem) | transactions | read units | "
        "write units | wall time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {population:,} | {row['reviewed']} | {row['moved']} | {row['calls'].get('Query', 0)} | "
              f"{row['calls'].get('GetItem', 0)} | {row['calls'].get('TransactWriteItems', 0)} | "
              f"{row['read_units']:.1f} | {row['write_units']} | {row['seconds']:.1f} s |" for population, row in rows]
    largest = rows[-1][1]
    bill = PriceList.load().bill({"dynamodb_write_unit": largest["write_units"],
                                  "dynamodb_read_unit": largest["read_units"]})
    lines += ["", f"The day's {largest['reviewed']} reviews cost about ${sum(bill.values()):.4f} at the on-demand "
                  "prices of bench/prices.yaml. The wall time grows because moto still scans the table in Python for",
              "each `due` query; DynamoDB reads the index alone."]
    return lines


if __name__ == "__main__":
    print("\n".join(markdown(daily_reviews())))
