"""Concurrent clients posting forms and beacons to the local runtime, and the exactly-once check after.

Each client is a thread with its own connection, its own anonymous visitor id and its own addresses.
Every fifth form is posted twice (a double click): it must still be stored once.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from nurture.domain.text import email_key, normalize_email
from nurture.keys import EMAIL_CLAIM_SK, email_claim_pk

Items = Callable[[str, str], list[dict[str, Any]]]  # (partition key, sort key prefix) -> items
LOAD_NAME = "負荷 試験"  # every load lead's name: the tests check it never reaches a log


@dataclass
class LoadResult:
    clients: int
    seconds: float = 0.0
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # status (or exception name) -> count
    forms: dict[str, set[str]] = field(default_factory=dict)  # accepted address -> the lead ids answered
    beacons: Counter[str] = field(default_factory=Counter)  # visitor id -> accepted beacons
    latencies: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def latency(self, quantile: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else 0.0

    def summary(self) -> dict[str, Any]:
        return {"clients": self.clients, "seconds": round(self.seconds, 1), "requests": self.requests,
                "requests_per_second": round(self.throughput, 1), "errors": sum(self.errors.values()),
                "error_kinds": dict(self.errors), "forms_accepted": len(self.forms),
                "beacons_accepted": sum(self.beacons.values()),
                "median_ms": round(statistics.median(self.latencies) * 1000, 1) if self.latencies else None,
                "p99_ms": round(self.latency(0.99) * 1000, 1)}


def drive(port: int, clients: int = 50, seconds: float = 60.0) -> LoadResult:
    result = LoadResult(clients)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    run = uuid4().hex[:8]

    def client(number: int) -> None:
        vid = f"load-{run}-{number:03d}"
        sent = 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            sent += 1
            if sent % 2:
                beacon = {"vid": vid, "type": "page_view", "url": f"https://www.example.co.jp/p/{sent}"}
                if _post(connection, "/v1/events", beacon, result, lock) is not None:
                    with lock:
                        result.beacons[vid] += 1
                continue
            email = f"load-{run}-{number:03d}-{sent}@load.example.co.jp"
            form = {"email": email, "name": LOAD_NAME, "company": "Load", "consent": True}
            for _ in range(2 if sent % 10 == 0 else 1):  # every fifth form is double-clicked
                answer = _post(connection, "/v1/forms/contact", form, result, lock)
                if answer is not None:
                    with lock:
                        result.forms.setdefault(email, set()).add(answer["submission_id"])
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    result.seconds = time.monotonic() - started
    return result


def _post(connection: http.client.HTTPConnection, path: str, payload: dict[str, Any], result: LoadResult,
          lock: threading.Lock) -> dict[str, Any] | None:
    """The JSON answer of an accepted post (2xx); None (and an error counted) otherwise."""
    began = time.monotonic()
    try:
        connection.request("POST", path, body=json.dumps(payload, ensure_ascii=False).encode(),
                           headers={"Content-Type": "application/json", "Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        status: str | int = response.status
    except (OSError, http.client.HTTPException) as error:
        connection.close()  # reconnects on the next request
        status, body = type(error).__name__, b""
    with lock:
        result.requests += 1
        result.latencies.append(time.monotonic() - began)
        if not (isinstance(status, int) and 200 <= status < 300):
            result.errors[str(status)] += 1
            return None
    answer: dict[str, Any] = json.loads(body) if body else {}
    return answer


def stored_more_or_less_than_once(result: LoadResult, items: Items) -> list[str]:
    """Every accepted form is one lead with one form_submit (a double click answered with the first one's id);
    every accepted beacon one event."""
    problems = []
    for email, submissions in result.forms.items():
        if len(submissions) != 1:
            problems.append(f"{email}: answered with {len(submissions)} different submissions")
            continue
        claims = items(email_claim_pk(email_key(normalize_email(email))), EMAIL_CLAIM_SK)
        if len(claims) != 1:
            problems.append(f"{email}: {len(claims)} leads")
            continue
        forms = [e for e in items(f"LEAD#{claims[0]['lead_id']}", "EVT#") if e.get("type") == "form_submit"]
        if [e["event_id"] for e in forms] != list(submissions):
            problems.append(f"{email}: {len(forms)} form_submit events")
    for vid, accepted in result.beacons.items():
        stored = len(items(f"VISITOR#{vid}", "EVT#"))
        if stored != accepted:
            problems.append(f"{vid}: {accepted} beacons accepted, {stored} stored")
    return problems


def gateway_under_load(clients: int = 50, seconds: float = 60.0) -> dict[str, Any]:
    """The minute-long run against `nurture local` in its own process, as the tests start it."""
    import tempfile
    from pathlib import Path

    from tests.local_system import start_system

    system = start_system(Path(tempfile.mkdtemp(prefix="nurture-bench-load-")))
    try:
        result = drive(system.port, clients, seconds)
        problems = stored_more_or_less_than_once(result, system.items)
    finally:
        system.stop()
    return {**result.summary(), "stored_wrongly": len(problems)}
