"""Scoring: in-process throughput, DynamoDB calls per stream batch, hot-lead latency on the local runtime."""

from __future__ import annotations

import functools
import json
import os
import statistics
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.calls import REPO, counted_dynamodb


class MemoryStore:
    """Scoring's store in memory: what remains is the engine's own cost."""

    def __init__(self, profiles: dict[str, dict[str, Any]]):
        self.profiles = profiles
        self.accounts: dict[str, Any] = {}

    def load_profiles(self, lead_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {lead_id: self.profiles[lead_id] for lead_id in lead_ids if lead_id in self.profiles}

    def write_ledger(self, entries: Any, retention_days: int) -> None:
        return None

    def save_score(self, lead_id: str, outcome: Any, expected_version: int, assignment: Any = None,
                   task: Any = None) -> None:
        self.profiles[lead_id] = {**self.profiles[lead_id], "scoring": outcome.state.to_item(),
                                  "stage": outcome.stage}
        if outcome.activity is not None:
            self.profiles[lead_id]["activity"] = outcome.activity

    def join_account(self, lead_id: str, account: str | None, left: str | None, came_from: str | None = None
                     ) -> bool:
        self.profiles[lead_id]["account"] = account
        return True

    def merged_into(self, account_id: str) -> None:
        return None

    def account_state(self, account_id: str) -> Any:
        from nurture.domain.accounts.patterns import AccountState

        return self.accounts.get(account_id, AccountState())

    def save_account_state(self, account_id: str, state: Any, expected_version: int) -> None:
        self.accounts[account_id] = state

    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
        """Its first PEOPLE_READ people by lead id, as the DynamoDB adapter reads them."""
        from nurture import keys
        from nurture.adapters.account_store import PEOPLE_READ

        members = [lead_id for lead_id, profile in self.profiles.items()
                   if profile.get("account") and keys.account_id(str(profile["account"])) == account_id]
        return None, {lead_id: self.profiles[lead_id] for lead_id in sorted(members)[:PEOPLE_READ]}

    def save_standing(self, account_id: str, view: dict[str, Any], at: str) -> None:
        return None


def throughput(leads: int = 1000, per_lead: int = 10) -> float:
    """Records per second through score_batch, batches of 100 records as Lambda delivers them."""
    from nurture.config import load_config
    from nurture.domain.score_batch import score_batch
    from nurture.domain.scoring import ScoredEvent

    config = load_config(REPO / "config")
    rules = config.scoring
    start = datetime(2026, 11, 2, tzinfo=UTC)
    kinds = [{"type": "page_view", "url": "https://example.jp/pricing"}, {"type": "download"},
             {"type": "form_submit", "form_kind": "download"}, {"type": "email_click"}, {"type": "page_view"}]
    records = [(f"lead{n % leads}", ScoredEvent(f"e{n}", start + timedelta(minutes=n), n + 1, kinds[n % len(kinds)]))
               for n in range(leads * per_lead)]
    store = MemoryStore({f"lead{n}": {"lead_id": f"lead{n}", "email": f"p{n}@example.co.jp", "title": "部長",
                                      "employees": "500", "stage": "nurturing"} for n in range(leads)})
    began = time.perf_counter()
    for offset in range(0, len(records), 100):
        batch: dict[str, list[ScoredEvent]] = {}
        for lead_id, event in records[offset:offset + 100]:
            batch.setdefault(lead_id, []).append(event)
        score_batch(batch, store, rules, start + timedelta(days=10), 730, click_burst_seconds=1,
                    url_groups=config.segments.url_groups)
    return len(records) / (time.perf_counter() - began)


def calls_per_batch() -> list[tuple[str, dict[str, Any]]]:
    """DynamoDB calls of one scoring invocation, by records and leads in its batch (moto)."""
    from nurture.local.functions import api_request, invoke
    from nurture.local.resources import LocalResources
    from nurture.local.streams import StreamPoller

    resources = LocalResources()
    rows = []
    with counted_dynamodb() as counter:
        captured: list[dict[str, Any]] = []
        poller = StreamPoller(resources.table_name, resources.region, {"scoring": captured.append})
        for leads, per_lead in ((1, 10), (10, 10), (100, 1)):
            captured.clear()
            for n in range(leads):
                vid = f"bench-{leads}-{n:04d}"
                api_request("POST", "/v1/events", headers={"content-type": "text/plain"}, body=json.dumps(
                    [{"vid": vid, "type": "page_view", "url": f"https://example.jp/{k}"} for k in range(per_lead - 1)]
                ).encode())
                api_request("POST", "/v1/forms/whitepaper", headers={"content-type": "application/json"},
                            body=json.dumps({"email": f"b{leads}-{n}@example.co.jp", "name": "B", "company": "C",
                                             "consent": True, "vid": vid}).encode())
            poller.poll_once()
            records = [r for event in captured for r in event["Records"]]
            row = counter.measure(functools.partial(invoke, "scoring", {"Records": records}))
            rows.append((f"{len(records)} records of {leads} lead(s)", row))
    return rows


def hot_lead_latency(leads: int = 100) -> tuple[float, float, int]:
    """Seconds from a demo-request POST to its handoff message being receivable: median, p99, misses."""
    import boto3

    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.text import email_key, normalize_email
    from nurture.local.runtime import LocalSystem, free_port

    os.environ["NURTURE_STATE_DIR"] = tempfile.mkdtemp(prefix="nurture-bench-")
    system = LocalSystem(REPO / "config", port=free_port("127.0.0.1"))
    system.start()
    sqs = boto3.client("sqs")
    store = DynamoLeadStore(os.environ["TABLE_NAME"])  # the lead's id, as sales tooling finds it by address
    samples: list[float] = []
    misses = 0
    try:
        for n in range(leads):
            body = json.dumps({"email": f"hot{n}@example.co.jp", "name": "H", "company": "C",
                               "phone": "03-0000-0000", "consent": True}).encode()
            request = urllib.request.Request(f"{system.gateway_url}/v1/forms/demo", data=body,
                                             headers={"content-type": "application/json"})
            began = time.perf_counter()
            urllib.request.urlopen(request, timeout=10).read()
            lead_id = store.find_lead_id(email_key(normalize_email(f"hot{n}@example.co.jp")))
            while time.perf_counter() - began < 10:
                messages = sqs.receive_message(QueueUrl=os.environ["HANDOFF_QUEUE_URL"], WaitTimeSeconds=1,
                                               MaxNumberOfMessages=10).get("Messages", [])
                for message in messages:
                    sqs.delete_message(QueueUrl=os.environ["HANDOFF_QUEUE_URL"],
                                       ReceiptHandle=message["ReceiptHandle"])
                if any(json.loads(m["Body"])["lead_id"] == lead_id for m in messages):
                    samples.append(time.perf_counter() - began)
                    break
            else:
                misses += 1
    finally:
        system.stop()
    return (*median_and_p99(samples), misses)


def median_and_p99(samples: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile of latency samples (NaN for none)."""
    if not samples:
        return float("nan"), float("nan")
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
