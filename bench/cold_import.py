"""Cold import time of each handler module, as a ratio to a bare boto3 DynamoDB client."""

from __future__ import annotations

import statistics
import subprocess
import sys

from nurture.topology import FUNCTIONS

BASELINE = "import boto3; boto3.client('dynamodb', region_name='ap-northeast-1')"
RUNS = 9


def _seconds(statement: str) -> float:
    program = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = [float(subprocess.run([sys.executable, "-X", "frozen_modules=on", "-c", program], check=True,
                                    capture_output=True, text=True).stdout) for _ in range(RUNS)]
    return statistics.median(samples)


def measure() -> list[tuple[str, float, float]]:
    """(module, median seconds, ratio to the baseline)."""
    baseline = _seconds(BASELINE)
    rows = [("baseline: " + BASELINE, baseline, 1.0)]
    for spec in FUNCTIONS.values():
        seconds = _seconds(f"import {spec.module}")
        rows.append((spec.module, seconds, seconds / baseline))
    return rows
