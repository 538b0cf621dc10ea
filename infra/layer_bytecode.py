"""Precompile the dependency layer's cold-start modules for Lambda's Python.

Lambda mounts layers read-only at /opt, so source without bytecode is compiled again at every cold start
(0.2 s per handler, docs/benchmarks.md). Compiling the whole layer would double its size; only the
modules the handlers import when they load are compiled. They are found by importing every handler here
(module names do not depend on the Python version), then compiled by Lambda's Python with hash-based
.pyc files, which never compare a timestamp (CDK's zip resets them) and are reproducible.

    python -m infra.layer_bytecode LAYER_PYTHON_DIR LAMBDA_PYTHON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nurture.topology import FUNCTIONS

LAMBDA_VERSION = "3.13"
# What Lambda sets: the X-Ray SDK, for one, takes another import path outside Lambda.
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "nurture",
    "AWS_REGION": "ap-northeast-1",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "POWERTOOLS_SERVICE_NAME": "nurture",
    "POWERTOOLS_METRICS_NAMESPACE": "Nurture",
    "TABLE_NAME": "bench",
}
_LIST_IMPORTED_FILES = (
    "import importlib, json, sys\n"
    "for module in sys.argv[1:]: importlib.import_module(module)\n"
    "print(json.dumps(sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)})))"
)
_COMPILE = (
    "import os, py_compile, sys\n"
    "root, shipped_at = sys.argv[1:3]\n"
    "for path in sys.argv[3:]:\n"
    "    py_compile.compile(path, dfile=os.path.join(shipped_at, os.path.relpath(path, root)), doraise=True,\n"
    "                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"
)
SHIPPED_AT = "/opt/python"  # where Lambda mounts a layer's python/ folder


def cold_start_modules(layer: Path) -> list[Path]:
    """The layer's files that importing the handlers loads."""
    listed = subprocess.run([sys.executable, "-c", _LIST_IMPORTED_FILES, *(s.module for s in FUNCTIONS.values())],
                            check=True, capture_output=True, text=True, env={**os.environ, **LAMBDA_ENVIRONMENT})
    found = []
    for loaded in map(Path, json.loads(listed.stdout)):
        # A package's file in this interpreter's site-packages, at the same place in the layer.
        site = next((parent for parent in loaded.parents if parent.name == "site-packages"), None)
        if site and loaded.suffix == ".py" and (layer / loaded.relative_to(site)).is_file():
            found.append(layer / loaded.relative_to(site))
    return found


def compile_modules(root: Path, modules: list[Path], python: str) -> None:
    """Compile `modules` (under the layer's python/ folder `root`) naming each by where Lambda mounts it, not by
    this build's folder: the same source compiles to the same bytes, so an unchanged layer is not redeployed."""
    subprocess.run([python, "-c", _COMPILE, str(root), SHIPPED_AT, *map(str, modules)], check=True)


def precompile(layer: Path, python: str) -> None:
    """Compile the layer's cold-start modules with `python` (bench/ does it with this machine's)."""
    modules = cold_start_modules(layer)
    compile_modules(layer, modules, python)
    compiled = sum(path.stat().st_size for path in layer.rglob("*.pyc"))
    print(f"precompiled {len(modules)} cold-start modules for {python}: {compiled / 1e6:.1f} MB of bytecode")


def python_version(python: str) -> str:
    return subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          check=True, capture_output=True, text=True).stdout.strip()


def lambda_python() -> str | None:
    """Lambda's Python on this machine, as the Makefile found it (`LAMBDA_PYTHON`, exported to synth and tests)."""
    python = os.environ.get("LAMBDA_PYTHON") or None
    if python and python_version(python) != LAMBDA_VERSION:
        raise ValueError(f"LAMBDA_PYTHON={python} is not Python {LAMBDA_VERSION}, whose bytecode Lambda reads")
    return python


def main(layer: Path, python: str) -> None:
    version = python_version(python)
    if version != LAMBDA_VERSION:
        sys.exit(f"{python} is Python {version}; Lambda runs {LAMBDA_VERSION}, whose bytecode is not another's")
    precompile(layer, python)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
