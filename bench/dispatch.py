"""The dispatcher's read cost with the same 100 leads due among ever more leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.calls import counted_dynamodb
from bench.units import item_size, read_units

DUE = 100
POPULATIONS = (1_000, 10_000, 100_000)


def _lead(n: int, due_at: str) -> dict[str, Any]:
    """A lead profile as the stores write it: fields, scores, the sequence state and the due keys."""
    from nurture import keys
    from nurture.adapters.lead_store import to_item

    lead_id = f"{n:032x}"
    return to_item({
        "PK": keys.lead_pk(lead_id), "SK": keys.PROFILE, "lead_id": lead_id, "email": f"lead{n}@example.co.jp",
        "email_key": f"{n:064x}", "name": "山田 太郎", "company": "株式会社サンプル", "title": "部長",
        "industry": "製造業", "employees": 500, "language": "ja", "status": "active", "stage": "nurturing",
        "rank": "B", "total": Decimal("42.5"), "fit": 30, "engagement": Decimal("12.5"),
        "scoring": {"version": 3, "engagement": Decimal("12.5"), "as_of": due_at, "fired": [], "cycle": 0},
        "sequence": {"sequence": "warm_nurture", "step": 1, "step_started_at": due_at, "next_send_at": due_at,
                     "sent_templates": ["know_how"], "sent_at": [due_at]},
        "due_pk": keys.due_pk(lead_id), "due_sk": keys.due_sk(due_at, lead_id),
        "rank_pk": keys.rank_pk("B"), "rank_sk": keys.rank_sk(42.5, lead_id),
    })


def tick_read_units() -> list[tuple[int, dict[str, Any]]]:
    """One tick with DUE leads due among each population: queries, items read and read units."""
    from nurture.local import emulator

    emulator.install()  # as the local runtime runs moto: a query reads its index, not the whole table
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    return [(population, _one_tick(population, now)) for population in POPULATIONS]


def _one_tick(population: int, now: datetime) -> dict[str, Any]:
    from nurture import keys
    from nurture.adapters.aws import client
    from nurture.adapters.dispatch_store import DynamoDispatchStore
    from nurture.adapters.send_queue import SendQueue
    from nurture.domain.clock import iso
    from nurture.domain.dispatch import tick
    from nurture.local.resources import LocalResources

    resources = LocalResources()
    with counted_dynamodb() as counter:
        items = [_lead(n, iso(now - timedelta(minutes=5)) if n < DUE else iso(now + timedelta(days=1 + n % 20)))
                 for n in range(population)]
        for start in range(0, len(items), 25):  # the population, seeded as a bulk load would (moto leaves nothing)
            client("dynamodb").batch_write_item(RequestItems={resources.table_name: [
                {"PutRequest": {"Item": item}} for item in items[start:start + 25]]})
        sizes = {item["lead_id"]["S"]: item_size(item) for item in items}
        pages: list[list[str]] = []
        client("dynamodb").meta.events.register(
            "after-call.dynamodb.Query",
            lambda parsed, **_: pages.append([item["lead_id"]["S"] for item in parsed.get("Items", [])]))
        store = DynamoDispatchStore(resources.table_name)
        queue = SendQueue(resources.queue_url(resources.send_queue))
        measured = counter.measure(lambda: tick(store, queue, now, keys.DUE_SHARDS))
        # A page is billed on the whole index items it read (the projection limits what comes back, not
        # what is read); GSI reads are eventually consistent.
        return {**measured, "read_units": sum(read_units(sum(sizes[lead] for lead in page), consistent=False)
                                              for page in pages),
                "item_bytes": round(sum(sizes.values()) / len(sizes))}
