"""DynamoDB adapter for customers' purchases and their reviews (issue 24): a purchase recorded once per order id
with everything it changes in one transaction; the reviews due, read through the sparse due index."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from nurture import keys
from nurture.adapters.dynamo import ConditionFailed, DynamoTable, TransactionCancelled, Update, item_key, projected
from nurture.domain.activity import Activity
from nurture.domain.customers.distribution import removal
from nurture.domain.customers.purchases import Purchase, Source
from nurture.domain.customers.review import Bought, DueReview, Recount, Standing
from nurture.domain.errors import LeadGone, StoreUnavailable
from nurture.domain.retry import backoff

NEXT = "to#"  # a product bought after another, as an attribute of that other's item (never PK or SK)
CONFLICT_RETRIES = 3  # a transaction another writer of the same lead crossed is tried again at once


class DynamoPurchaseStore(DynamoTable):
    def record_purchase(self, lead_id: str, purchase: Purchase, activity: Activity | None, review_at: str,
                        recorded_at: str, source: Source) -> bool:
        pk = keys.lead_pk(lead_id)
        profile = Update().set_if_absent("customer_since", recorded_at)
        if purchase.product:
            profile.add("products", {"SS": [purchase.product]})
        revenue = Update().add("orders", {"N": "1"}).add("revenue", {"N": str(purchase.amount)})
        items: list[dict[str, Any]] = [
            self._put_new(keys.order_pk(purchase.order_id), keys.ORDER_SK, {"recorded_at": recorded_at}),
            {"Update": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                        "ConditionExpression": "attribute_exists(PK)", **profile.arguments()}},
            self._put_new(pk, keys.purchase_sk(purchase.order_id), {
                "lead_id": lead_id, "order_id": purchase.order_id, "on": purchase.on.isoformat(),
                "amount": purchase.amount, "product": purchase.product or None, "source": source,
                "recorded_at": recorded_at}),
            # Due now, and one more purchase to see: a review that read fewer saves nothing (save_review).
            {"Update": {"TableName": self._table, "Key": item_key(pk, keys.CUSTOMER_REVIEW_SK),
                        **Update().set("lead_id", lead_id).set("due_pk", keys.CUSTOMERS_DUE)
                        .set("due_sk", keys.due_sk(review_at, lead_id)).add("purchases", {"N": "1"}).arguments()}},
            {"Update": {"TableName": self._table,
                        "Key": item_key(keys.revenue_pk(purchase.on.isoformat()[:7]), keys.stats_sk(lead_id)),
                        **revenue.arguments()}}]
        if activity is not None:
            items.append({"Put": {"TableName": self._table,
                                  "Item": {**self._activity_item(pk, activity), "lead_id": {"S": lead_id}}}})
        for attempt in range(CONFLICT_RETRIES):
            try:
                self._call("transact_write_items", TransactItems=items)
                return True
            except TransactionCancelled as cancelled:
                if cancelled.codes[1] == "ConditionalCheckFailed":
                    raise LeadGone(lead_id) from cancelled
                if cancelled.codes[0] == "ConditionalCheckFailed":
                    return False  # the order was recorded before
                if "TransactionConflict" not in cancelled.codes:
                    raise StoreUnavailable(f"the purchase could not be recorded: {cancelled.codes}") from cancelled
                backoff(attempt)
        raise StoreUnavailable("the purchase kept meeting other writes of its lead: send it again")

    def customers_due(self, until: str, limit: int) -> list[DueReview]:
        return [DueReview(str(entry["lead_id"]), str(entry["due_sk"]))
                for entry in self._due(keys.CUSTOMERS_DUE, until, limit, ("lead_id", "due_sk"))]

    def customer(self, lead_id: str) -> tuple[dict[str, Any], list[Bought]] | None:
        profile = self.profile(lead_id, "lead_id, customer")
        if profile is None:
            return None
        bought = [Bought(date.fromisoformat(str(item["on"]["S"])), int(item["amount"]["N"]),
                         str(item.get("product", {}).get("S", "")))
                  for item in self._pages(
                      "query", TableName=self._table, ConsistentRead=True,
                      KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                      ExpressionAttributeValues={":pk": {"S": keys.lead_pk(lead_id)},
                                                 ":prefix": {"S": keys.PURCHASE_PREFIX}},
                      **projected(("on", "amount", "product")))]
        return dict(profile.get("customer") or {}), bought

    def distribution(self) -> dict[str, int]:
        found = self._get(keys.CUSTOMER_DISTRIBUTION_PK, keys.CUSTOMER_DISTRIBUTION_SK) or {}
        return {name: int(count) for name, count in found.items() if name not in ("PK", "SK")}

    def next_products(self, product: str) -> dict[str, int]:
        found = self._get(keys.CUSTOMERS_NEXT_PK, keys.next_products_sk(product)) or {}
        return {name.removeprefix(NEXT): int(count) for name, count in found.items() if name.startswith(NEXT)}

    def drop_review(self, due: DueReview) -> None:
        with contextlib.suppress(ConditionFailed):  # moved since it was read: a purchase's, due again
            self._call("delete_item", TableName=self._table,
                       Key=item_key(keys.lead_pk(due.lead_id), keys.CUSTOMER_REVIEW_SK),
                       ConditionExpression="due_sk = :read", ExpressionAttributeValues={":read": {"S": due.due_sk}})

    def save_review(self, due: DueReview, standing: Standing, told: list[Activity], next_at: str | None,
                    purchases_read: int, counted_before: str | None, recount: Recount) -> bool:
        key = item_key(keys.lead_pk(due.lead_id), keys.CUSTOMER_REVIEW_SK)
        # As read: the same entry, and no purchase recorded since the review read them (each adds one). A count
        # below what was read is an entry deleted by an older version and begun again at its next purchase: mended.
        condition = "due_sk = :read AND purchases <= :seen"
        read = {":read": {"S": due.due_sk}, ":seen": {"N": str(purchases_read)}}
        pk = keys.lead_pk(due.lead_id)
        # No next review: the entry leaves the due index but keeps its count, which the next purchase goes on from.
        entry = Update().remove("due_pk").remove("due_sk") if next_at is None else Update().set(
            "due_sk", keys.due_sk(next_at, due.lead_id))
        entry.set("purchases", purchases_read)
        review = {"Update": {"TableName": self._table, "Key": key, "ConditionExpression": condition,
                             **entry.arguments(read)}}
        items = [{"Update": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                             **counted_as_read(Update().set("customer", standing.to_item()), counted_before)}},
                  review]
        if recount.distribution:
            items.append(distribution_change(self._table, recount.distribution))
        for earlier, later in sorted(recount.next_products.items()):
            items.append(counters_change(self._table, item_key(keys.CUSTOMERS_NEXT_PK, keys.next_products_sk(earlier)),
                                         {NEXT + product: by for product, by in later.items()}))
        items += [{"Put": {"TableName": self._table,
                           "Item": {**self._activity_item(pk, activity), "lead_id": {"S": due.lead_id}}}}
                  for activity in told]
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if "ConditionalCheckFailed" in cancelled.codes:
                return False  # erased, or a purchase came meanwhile: the next tick reviews again
            raise StoreUnavailable(f"the review could not be saved: {cancelled.codes}") from cancelled
        return True


COUNTED_NAMES = {"#customer": "customer", "#counted": "counted"}  # the names counted_condition uses


def counted_condition(counted: str | None) -> tuple[str, dict[str, Any]]:
    """That a lead's customer is counted in the customers' distribution as read (`counted`, or not at all), and the
    condition's values (its names: COUNTED_NAMES): what a review or a profile's delete moves in the distribution."""
    if counted is None:
        return "attribute_not_exists(#customer.#counted)", {}
    return "#customer.#counted = :counted", {":counted": {"S": counted}}


def counted_as_read(update: Update, counted: str | None) -> dict[str, Any]:
    """`update`'s arguments for a lead's profile, on condition that it exists and is counted as read."""
    condition, values = counted_condition(counted)
    update.names.update(COUNTED_NAMES)
    return {"ConditionExpression": f"attribute_exists(PK) AND {condition}", **update.arguments(values)}


def counted_out(table: str, customer: Mapping[str, Any] | None) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """What a transaction that deletes a lead's profile adds, so its customer leaves the distribution once: the
    condition that it is counted as read (names: COUNTED_NAMES), the condition's values, and the items that take
    it out (none when it was not counted)."""
    counted = (customer or {}).get("counted")
    condition, values = counted_condition(str(counted) if counted else None)
    return condition, values, [distribution_change(table, removal(str(counted)))] if counted else []


def distribution_change(table: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """A transaction's item that moves the customers' distribution's counters by `counts`."""
    return counters_change(table, item_key(keys.CUSTOMER_DISTRIBUTION_PK, keys.CUSTOMER_DISTRIBUTION_SK), counts)


def counters_change(table: str, key: dict[str, Any], counts: Mapping[str, int]) -> dict[str, Any]:
    """A transaction's item that moves the item's top-level counters by `counts` (a name may hold a ".")."""
    change = Update()
    for counter, by in counts.items():
        change.add_to(counter, {"N": str(by)})
    return {"Update": {"TableName": table, "Key": key, **change.arguments()}}
