"""Cold import time of each handler module and its first config load, as a ratio to a bare boto3 DynamoDB
client."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from infra.constructs.shared_code import deployed_config
from infra.layer_bytecode import LAMBDA_ENVIRONMENT
from nurture.topology import FUNCTIONS

BASELINE = "import boto3; boto3.client('dynamodb', region_name='ap-northeast-1')"
# What a handler's first request adds before any AWS call: the config, from the config layer.
FIRST_CONFIG_LOAD = "from nurture.settings import marketer_config; marketer_config()"
RUNS = 9


def _once(statement: str, isolated_path: list[str] | None, python: str = sys.executable) -> float:
    program = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    # The config layer as `cdk synth` stages it, compiled; tracing off, as shipped.
    environment = {**os.environ, **LAMBDA_ENVIRONMENT, "POWERTOOLS_TRACE_DISABLED": "true",
                   "NURTURE_CONFIG_DIR": str(deployed_config({}) / "config"), "SIGNING_KEY_PARAMETER": "bench"}
    flags = []
    # Bytecode as a deployed function has it: the first of the runs writes it (a machine may be set not to).
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    if isolated_path is not None:
        environment["PYTHONPATH"] = os.pathsep.join(isolated_path)
        environment["PYTHONDONTWRITEBYTECODE"] = "1"  # as under Lambda's read-only /opt
        flags = ["-S", "-s"]
    return float(subprocess.run([python, *flags, "-c", program], check=True, capture_output=True,
                                text=True, env=environment).stdout)


def seconds(statement: str, isolated_path: list[str] | None = None, python: str = sys.executable) -> float:
    """Median import time in fresh interpreters of `python`; with `isolated_path`, nothing but the standard
    library and those folders is importable (no site-packages), as in Lambda with its layers."""
    return statistics.median(_once(statement, isolated_path, python) for _ in range(RUNS))


def against_baseline(statement: str, isolated_path: list[str] | None = None,
                     baseline_path: list[str] | None = None, python: str = sys.executable) -> tuple[float, float]:
    """(median seconds of `statement`, median ratio to the baseline run just before it). Each sample is paired
    with a baseline of its own: this machine's speed drifts by more than the differences measured."""
    pairs = [(_once(BASELINE, baseline_path, python), _once(statement, isolated_path, python)) for _ in range(RUNS)]
    return statistics.median(took for _, took in pairs), statistics.median(took / base for base, took in pairs)


def measure() -> list[tuple[str, float, float]]:
    """(module, median seconds of its import and first config load, median ratio to the baseline)."""
    rows = [("baseline: " + BASELINE, seconds(BASELINE), 1.0)]
    for spec in FUNCTIONS.values():
        rows.append((spec.module, *against_baseline(f"import {spec.module}; {FIRST_CONFIG_LOAD}")))
    return rows
