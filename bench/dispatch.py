"""The dispatcher's read cost with the same 100 leads due among ever more leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.calls import counted_dynamodb
from bench.profiles import bulk_load, profile
from bench.units import item_size, read_units

DUE = 100
POPULATIONS = (1_000, 10_000, 100_000)


def _lead(n: int, due_at: str) -> dict[str, Any]:
    """A lead whose next step email is due at `due_at`: its sequence state and due keys."""
    from nurture import keys

    lead_id = f"{n:032x}"
    return profile(n, scoring={"version": 3, "engagement": Decimal("12.5"), "as_of": due_at, "fired": [], "cycle": 0},
                   sequence={"sequence": "warm_nurture", "step": 1, "step_started_at": due_at, "next_send_at": due_at,
                             "sent_templates": ["know_how"], "sent_at": [due_at]},
                   due_pk=keys.due_pk(lead_id), due_sk=keys.due_sk(due_at, lead_id))


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
        bulk_load(resources.table_name, items)
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
