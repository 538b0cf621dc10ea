"""DynamoDB side of the deliverability guard: the daily counts, and the pause flag the dispatcher honours."""

from __future__ import annotations

from typing import Any

from nurture import keys
from nurture.adapters.audit_log import recorded
from nurture.adapters.dynamo import ConditionFailed, DynamoTable, TransactionCancelled, from_item, item_key, to_item
from nurture.domain.console.audit import Change
from nurture.domain.deliverability import DayCounts, Verdict
from nurture.domain.errors import StoreUnavailable

DAYS_READ = 30  # a window of sends never reaches further back than this


class PauseReader(DynamoTable):
    """What whoever sends needs of the guard: the pause flag (one read)."""

    def paused(self) -> dict[str, Any] | None:
        return self._get(keys.GUARD_PK, keys.GUARD_PAUSE_SK)

    def sending_paused(self) -> bool:
        return self.paused() is not None


class DynamoDeliverabilityStore(PauseReader):

    def recent_days(self) -> list[DayCounts]:
        """The newest days' counts, shards summed: one Query."""
        page = self._call("query", TableName=self._table, ScanIndexForward=False, Limit=DAYS_READ * keys.STATS_SHARDS,
                          KeyConditionExpression="PK = :pk AND begins_with(SK, :day)",
                          ExpressionAttributeValues={":pk": {"S": keys.GUARD_PK}, ":day": {"S": "DAY#"}})
        totals: dict[str, dict[str, int]] = {}
        for item in map(from_item, page.get("Items", [])):
            day = totals.setdefault(str(item["day"]), {"sent": 0, "bounced": 0, "complained": 0})
            for name in day:
                day[name] += int(item.get(name, 0))
        return [DayCounts(day, **counts) for day, counts in totals.items()]

    def pause(self, verdict: Verdict, at: str) -> bool:
        """Set the flag unless it is set; True when this call set it."""
        try:
            self._call("put_item", TableName=self._table, ConditionExpression="attribute_not_exists(PK)",
                       ReturnValuesOnConditionCheckFailure="ALL_OLD",
                       Item=to_item({"PK": keys.GUARD_PK, "SK": keys.GUARD_PAUSE_SK, "reason": verdict.reason,
                                     "paused_at": at, "sends": verdict.sends,
                                     "bounce_rate": round(verdict.bounce_rate, 6),
                                     "complaint_rate": round(verdict.complaint_rate, 6)}))
        except ConditionFailed as paused:
            # Paused already, and the first reason stands; unless it is this very call's, landed with its
            # answer lost and retried by the SDK: then this call set it (and its alarm must fire).
            return paused.item is not None and paused.item.get("paused_at") == at
        return True

    def resume(self, change: Change) -> bool:
        """Lift the pause, with the record of who did (from the console or the CLI), in one transaction; False,
        and nothing recorded, when sending was not paused."""
        try:
            self._call("transact_write_items", TransactItems=[
                {"Delete": {"TableName": self._table, "Key": item_key(keys.GUARD_PK, keys.GUARD_PAUSE_SK),
                            "ConditionExpression": "attribute_exists(PK)"}},
                recorded(self._table, change)])
        except TransactionCancelled as cancelled:
            if cancelled.codes[:1] == ["ConditionalCheckFailed"]:
                return False
            raise StoreUnavailable("the pause changed meanwhile: look again") from cancelled
        return True
