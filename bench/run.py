"""`make bench`: run every benchmark, print the numbers and rewrite docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import calls, cold_import

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


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
        f"Median of {cold_import.RUNS} fresh interpreters. Aim: at most 1.3x the bare boto3 client.",
        "",
        "| module | seconds | ratio |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{name}` | {seconds:.3f} | {ratio:.2f}x |" for name, seconds, ratio in import_rows]
    text = "\n".join(lines) + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
