"""What `cdk deploy` ships: synth time, template size, layer sizes, and each handler's cold import with
nothing importable but its layers and what the Lambda Python runtime provides."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cold_import import BASELINE, FIRST_CONFIG_LOAD, against_baseline, seconds
from infra import layer_bytecode
from infra.constructs.shared_code import RUNTIME_PROVIDED, library_layer
from nurture.config.compiled import DEVELOPER_TOOLS
from nurture.topology import FUNCTIONS

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / ".build" / "layers" / "dependencies" / "python"
LIBRARY = REPO / "layers" / "nurture" / "python"


def synth() -> tuple[float, int]:
    """Seconds of `cdk synth` (the pinned CLI, cdk-nag on) and the template's resource count."""
    subprocess.run(["make", "layers"], cwd=REPO, check=True, capture_output=True)
    began = time.perf_counter()
    subprocess.run(["npx", "cdk", "synth", "--quiet"], cwd=REPO, check=True, capture_output=True)
    took = time.perf_counter() - began
    return took, len(json.loads(template().read_text(encoding="utf-8"))["Resources"])


def template() -> Path:
    """The stack's template, as the last `cdk synth` wrote it."""
    (found,) = (REPO / "cdk.out").glob("*.template.json")
    return found


def _bytes(folder: Path, skip: tuple[str, ...] = ("__pycache__",)) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*")
               if path.is_file() and not any(part in skip for part in path.parts))


def layer_megabytes() -> dict[str, float]:
    """Unzipped sizes, as Lambda counts them against its 250 MB limit. The dependency layer as built,
    with its precompiled modules; the library and config as packaged, without this machine's bytecode."""
    return {"dependencies": _bytes(LAYER, ()) / 1e6, "bytecode": (_bytes(LAYER, ()) - _bytes(LAYER)) / 1e6,
            "library": _bytes(LIBRARY, ("__pycache__", *DEVELOPER_TOOLS)) / 1e6,
            "config": _bytes(REPO / "config") / 1e6}


def cold_imports_with_layers() -> list[tuple[str, float, float, float]]:
    """(handler, median seconds of its import and first config load without bytecode, with the layers
    precompiled, median ratio of the latter to boto3's client run beside each sample) with only the layers and
    the runtime's packages importable, as /opt is read-only in Lambda. Run by Lambda's Python (3.13) where the
    machine has it (`LAMBDA_PYTHON`), else by this one. The dependency layer is rebuilt for this machine's
    architecture from the same pins (Lambda's wheels are arm64), and it, the library and the runtime's own
    packages are precompiled as `make layers`, `cdk synth` and Lambda's runtime do."""
    python = layer_bytecode.lambda_python() or sys.executable
    version = layer_bytecode.python_version(python)
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    with tempfile.TemporaryDirectory() as scratch:
        layer, runtime = Path(scratch) / "layer", Path(scratch) / "runtime"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                        "--only-binary=:all:", "--python-version", version, "--implementation", "cp",
                        "--platform", f"manylinux2014_{platform.machine()}", "--target", str(layer), "-r",
                        str(REPO / "layers" / "dependencies" / "requirements.txt")], check=True)
        library = Path(scratch) / "library"
        library_layer(library, None)
        runtime.mkdir()
        for module in RUNTIME_PROVIDED.values():  # the runtime's own packages, from this virtualenv
            if (site / module).is_dir():
                shutil.copytree(site / module, runtime / module, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(site / f"{module}.py", runtime)
        layer_bytecode.compile_modules(runtime, sorted(runtime.rglob("*.py")), python)
        baseline = seconds(BASELINE, [str(runtime)], python)
        handlers = {spec.name: [str(REPO / spec.asset), str(layer), str(library), str(runtime)]
                    for spec in FUNCTIONS.values()}
        first_request = f"import handler; {FIRST_CONFIG_LOAD}"
        source_only = {name: seconds(first_request, path, python) for name, path in handlers.items()}
        layer_bytecode.precompile(layer, python)
        layer_bytecode.compile_modules(library, sorted(library.rglob("*.py")), python)
        rows = [(f"baseline (Python {version}): " + BASELINE, baseline, baseline, 1.0)]
        for name, path in handlers.items():
            rows.append((name, source_only[name], *against_baseline(first_request, path, [str(runtime)], python)))
        return rows
