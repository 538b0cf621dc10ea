"""Counters that ride along in the transactions that record what they count: one ADD each."""

from __future__ import annotations

from typing import Any

from nurture import keys
from nurture.adapters.dynamo import Update, item_key


def _add_one(table: str, pk: str, sk: str, counter: str, labels: dict[str, str]) -> dict[str, Any]:
    change = Update().add(counter, {"N": "1"})
    for name, value in labels.items():
        change.set(name, value)
    return {"Update": {"TableName": table, "Key": item_key(pk, sk), **change.arguments()}}


def step_count(table: str, sequence: str, step: str, lead_id: str, counter: str) -> dict[str, Any]:
    """A sequence step's KPI (sent, failed, skipped, delivered, opened, clicked, bounced, complained; a
    machine's opens and clicks apart, as opened_bot and clicked_bot)."""
    return _add_one(table, keys.stats_pk(sequence, step), keys.stats_sk(lead_id), counter,
                    {"sequence": sequence, "step": step})


def day_count(table: str, day: str, spread: str, counter: str) -> dict[str, Any]:
    """The deliverability guard's daily sent, bounced and complained; `spread` picks the shard."""
    return _add_one(table, keys.GUARD_PK, keys.guard_day_sk(day, spread), counter, {"day": day})
