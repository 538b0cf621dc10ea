"""The daily KPI counters (nurture.domain.kpis): added to by the scorer, read by the console's home."""

from __future__ import annotations

from typing import Any

from nurture import keys
from nurture.adapters.dynamo import DynamoTable, Update, from_item, item_key
from nurture.domain.kpis import KPIS, DayKpis


class DynamoKpis(DynamoTable):
    def add_kpis(self, days: DayKpis) -> None:
        """One UpdateItem per day: ADD each counter."""
        for day, counters in sorted(days.items()):
            change = Update().set("day", day)
            for kpi, value in sorted(counters.items()):
                change.add(kpi, {"N": str(value)})
            self._call("update_item", TableName=self._table, Key=item_key(keys.KPI_PK, keys.kpi_day_sk(day)),
                       **change.arguments())

    def days(self, first: str, last: str) -> list[tuple[str, dict[str, int]]]:
        """Each counted day from `first` to `last` (YYYY-MM-DD): one Query (56 small items)."""
        page = self._call("query", TableName=self._table, KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
                          ExpressionAttributeValues={":pk": {"S": keys.KPI_PK}, ":a": {"S": keys.kpi_day_sk(first)},
                                                     ":b": {"S": keys.kpi_day_sk(last)}})
        return [(str(item["day"]), _counters(item)) for item in map(from_item, page.get("Items", []))]


def _counters(item: dict[str, Any]) -> dict[str, int]:
    return {kpi: int(item.get(kpi, 0)) for kpi in KPIS}
