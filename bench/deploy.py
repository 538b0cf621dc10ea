"""What `cdk deploy` ships: synth time, template size, layer sizes, and each handler's cold import with
nothing importable but its layers and what the Lambda Python runtime provides."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cold_import import BASELINE, seconds
from infra.constructs.shared_code import RUNTIME_PROVIDED
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
    (template,) = (REPO / "cdk.out").glob("*.template.json")
    return took, len(json.loads(template.read_text(encoding="utf-8"))["Resources"])


def _bytes(folder: Path, skip: tuple[str, ...] = ()) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*")
               if path.is_file() and "__pycache__" not in path.parts and not any(part in skip for part in path.parts))


def layer_megabytes() -> dict[str, float]:
    """Unzipped sizes, as Lambda counts them against its 250 MB limit."""
    return {"dependencies": _bytes(LAYER) / 1e6, "library": _bytes(LIBRARY, ("cli", "local")) / 1e6,
            "config": _bytes(REPO / "config") / 1e6}


def cold_imports_with_layers() -> list[tuple[str, float, float]]:
    """(handler, median seconds, ratio to boto3's client) with only the layers and the runtime's packages
    importable, and no bytecode cached: the layers ship none (they are built on another Python than
    Lambda's 3.13) and /opt is read-only, so a cold start compiles them. The dependency layer is rebuilt
    for this machine from the same pins (Lambda's wheels are arm64)."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    with tempfile.TemporaryDirectory() as scratch:
        layer, runtime = Path(scratch) / "layer", Path(scratch) / "runtime"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                        "--only-binary=:all:", "--target", str(layer), "-r",
                        str(REPO / "layers" / "dependencies" / "requirements.txt")], check=True)
        library = Path(scratch) / "library"
        shutil.copytree(LIBRARY, library, ignore=shutil.ignore_patterns("__pycache__", "cli", "local"))
        runtime.mkdir()
        for module in RUNTIME_PROVIDED.values():  # the runtime's own packages, from this virtualenv
            name = module if (site / module).is_dir() else f"{module}.py"
            (runtime / name).symlink_to(site / name)
        baseline = seconds(BASELINE, [str(runtime)])
        rows = [("baseline: " + BASELINE, baseline, 1.0)]
        for spec in FUNCTIONS.values():
            handler = REPO / Path(spec.asset)
            took = seconds("import handler", [str(handler), str(layer), str(library), str(runtime)])
            rows.append((spec.name, took, took / baseline))
        return rows
