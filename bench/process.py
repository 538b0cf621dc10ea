"""Benchmarks on the local runtime, each in an interpreter of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.calls import REPO


def in_fresh_process(module: str, function: str) -> Any:
    """`module.function()` in its own interpreter, its JSON answer: every benchmark on the local runtime runs so.
    The in-process moto runs before it leave a heap whose garbage collections would be counted against the
    runtime, and a runtime started after another in one process would keep some of the first's endpoints
    (the handlers' cached collaborators hold their queues' URLs). A failure shows the benchmark's own error."""
    program = f"import json; from {module} import {function}; print(json.dumps({function}()))"
    done = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module}.{function} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
