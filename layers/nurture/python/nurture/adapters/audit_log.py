"""The console's record of changes (nurture.domain.console.audit): written inside each change's own transaction,
read newest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nurture import keys
from nurture.adapters.dynamo import DynamoTable, from_item, to_item
from nurture.domain.console.audit import Change


def recorded(table: str, change: Change) -> dict[str, Any]:
    """The record's part of a TransactWriteItems."""
    return {"Put": {"TableName": table, "Item": to_item(change.item()),
                    "ConditionExpression": "attribute_not_exists(PK)"}}


class DynamoAuditLog(DynamoTable):
    def record(self, change: Change) -> None:
        """A change made outside the table (a test email queued): its record alone, after it."""
        self._call("transact_write_items", TransactItems=[recorded(self._table, change)])

    def recent(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` records of this month and the one before: a Query each, at most."""
        found: list[dict[str, Any]] = []
        first_of_month = now.replace(day=1)
        for month in (now, first_of_month - timedelta(days=1)):
            page = self._call("query", TableName=self._table, ScanIndexForward=False, Limit=limit - len(found),
                              KeyConditionExpression="PK = :pk",
                              ExpressionAttributeValues={":pk": {"S": keys.audit_pk(month.strftime("%Y-%m"))}})
            found += [from_item(item) for item in page.get("Items", [])]
            if len(found) >= limit:
                break
        return [{name: value for name, value in item.items() if name not in ("PK", "SK")} for item in found]
