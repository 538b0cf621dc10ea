"""Lead profiles as the stores write them, and a population bulk-loaded into the emulated table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def profile(n: int, **extra: Any) -> dict[str, Any]:
    """Lead `n`'s profile, DynamoDB-typed: fields, scores and rank keys, with `extra` attributes on top."""
    from nurture import keys
    from nurture.adapters.dynamo import to_item

    lead_id = f"{n:032x}"
    return to_item({
        "PK": keys.lead_pk(lead_id), "SK": keys.PROFILE, "lead_id": lead_id, "email": f"lead{n}@example.co.jp",
        "email_key": f"{n:064x}", "name": "山田 太郎", "company": "株式会社サンプル", "title": "部長",
        "industry": "製造業", "employees": 500, "language": "ja", "status": "active", "stage": "nurturing",
        "rank": "B", "total": Decimal("42.5"), "fit": 30, "engagement": Decimal("12.5"),
        "rank_pk": keys.rank_pk("B"), "rank_sk": keys.rank_sk(42.5, lead_id), **extra,
    })


def bulk_load(table: str, items: list[dict[str, Any]]) -> None:
    """As a bulk load would write them (moto leaves nothing out): 25 to a BatchWriteItem."""
    from nurture.adapters.aws import client

    for start in range(0, len(items), 25):
        client("dynamodb").batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}}
                                                                 for item in items[start:start + 25]]})
