"""What `cdk deploy` ships: synth time, template size, layer sizes, and each handler's cold import with
nothing importable but its layers and what the Lambda Python runtime provides."""

from __future__ import annotations

import json
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
    the runtime's packages importable, as /opt is read-only in Lambda. The dependency layer is rebuilt for this
    machine from the same pins (Lambda's wheels are arm64), and precompiled as `make layers` and `cdk synth` do,
    by this machine's Python."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    with tempfile.TemporaryDirectory() as scratch:
        layer, runtime = Path(scratch) / "layer", Path(scratch) / "runtime"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                        "--only-binary=:all:", "--target", str(layer), "-r",
                        str(REPO / "layers" / "dependencies" / "requirements.txt")], check=True)
        library = Path(scratch) / "library"
        library_layer(library, None)
        runtime.mkdir()
        for module in RUNTIME_PROVIDED.values():  # the runtime's own packages, from this virtualenv
            name = module if (site / module).is_dir() else f"{module}.py"
            (runtime / name).symlink_to(site / name)
        baseline = seconds(BASELINE, [str(runtime)])
        handlers = {spec.name: [str(REPO / spec.asset), str(layer), str(library), str(runtime)]
                    for spec in FUNCTIONS.values()}
        first_request = f"import handler; {FIRST_CONFIG_LOAD}"
        source_only = {name: seconds(first_request, path) for name, path in handlers.items()}
        layer_bytecode.precompile(layer, sys.executable)
        layer_bytecode.compile_modules(library, sorted(library.rglob("*.py")), sys.executable)
        rows = [("baseline: " + BASELINE, baseline, baseline, 1.0)]
        for name, path in handlers.items():
            rows.append((name, source_only[name], *against_baseline(first_request, path, [str(runtime)])))
        return rows
