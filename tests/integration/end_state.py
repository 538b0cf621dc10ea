"""Run `simulate` in this process and print its end state as one JSON object: what each lead ended
with (by address, since ids are not comparable across runs), what it was sent, its handoffs.

`python -m tests.integration.end_state LEADS DAYS SEED FAULTS`
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from nurture.local.resources import LocalResources
from nurture.local.simulation import simulate

REPO = Path(__file__).resolve().parents[2]


def main(leads: int, days: int, seed: int, faults: float) -> dict[str, Any]:
    state: dict[str, dict[str, Any]] = {}

    def inspect() -> None:
        from nurture.adapters.lead_store import DynamoLeadStore

        by_pk: dict[str, dict[str, Any]] = {}
        for item in DynamoLeadStore(LocalResources().table_name).report_items():
            lead = by_pk.setdefault(item["PK"], {"activity": Counter(), "sent": Counter(), "handoffs": 0})
            if item["SK"] == "PROFILE":
                lead.update(email=item["email"], rank=item.get("rank"), stage=item.get("stage"),
                            status=item.get("status"), total=float(item.get("total", 0)))
            elif item["SK"].startswith("EVT#"):
                lead["activity"][item["type"] + ("/machine" if item.get("bot") else "")] += 1
                if item["type"] == "email_sent":
                    lead["sent"][item["template"]] += 1
            elif item["SK"].startswith("HANDOFF#"):
                lead["handoffs"] += 1
        state.update({lead.pop("email"): lead for lead in by_pk.values() if "email" in lead})

    report = simulate(REPO / "config", leads, days, seed, faults=faults, inspect=inspect)
    return {"leads": state, "report": report.to_json()}


if __name__ == "__main__":
    leads, days, seed, faults = sys.argv[1:5]
    print(json.dumps(main(int(leads), int(days), int(seed), float(faults)), ensure_ascii=False))
