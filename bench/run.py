"""`make bench`: run every benchmark, print the numbers and rewrite docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import calls, cold_import

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
NOTES = [
    "- An anonymous beacon is one `TransactWriteItems` (a condition check that the visitor is still",
    "  anonymous, plus the events): one call, billed as transactional writes. A beacon of an identified",
    "  visitor costs a second write: the check fails and names the lead, then the events go there. Keeping",
    "  the condition is what guarantees no hit is stranded under a visitor that has just identified.",
    "- A form submit is one strongly consistent `BatchGetItem` and one `TransactWriteItems`, for a new or a",
    "  known lead and for a duplicate (the duplicate guard's failed condition returns the first answer).",
    "  A visitor's first identify adds a `Query` of its history, `BatchWriteItem` copies and one `UpdateItem`:",
    "  once per visitor, proportional to its history.",
    "- Cold import is above the 1.3x aim: Powertools' event handler with validation (~45 ms), the X-Ray SDK's",
    "  botocore patching (~55 ms, of which `requests` ~25 ms), pydantic and the config models (~35 ms) and",
    "  PyYAML (~10 ms) come on top of boto3. Candidates: patch only botocore in the Tracer, load the config",
    "  models lazily. Tracked for the benchmark issue.",
]


def main() -> None:
    call_rows = calls.count_calls()
    import_rows = cold_import.measure()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine}.",
        "Numbers, not pass/fail: the aims are stated beside them.",
        "",
        "## DynamoDB calls per request",
        "",
        "Counted with a botocore `before-call` hook on the client the handlers use, against moto.",
        "Aims: a beacon is one write; a form submit for a known lead at most one read and two writes.",
        "",
        "| request | reads | writes | calls |",
        "|---|---:|---:|---|",
    ]
    for name, row in call_rows:
        detail = ", ".join(f"{op} {n}" for op, n in sorted(row["calls"].items()))
        lines.append(f"| {name} | {row['reads']} | {row['writes']} | {detail} |")
    lines += [
        "",
        "## Cold import of each handler module",
        "",
        f"Median of {cold_import.RUNS} fresh interpreters with Lambda's environment variables set (the X-Ray SDK",
        "then samples locally instead of creating API clients). Aim: at most 1.3x the bare boto3 client.",
        "",
        "| module | seconds | ratio |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{name}` | {seconds:.3f} | {ratio:.2f}x |" for name, seconds, ratio in import_rows]
    lines += ["", "## Reading these numbers", "", *NOTES]
    text = "\n".join(lines) + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
