"""The dependency layer `make layers` builds (Lambda Python 3.13 arm64 wheels, no Docker) holds
everything the functions import, and nothing the Lambda runtime already provides."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import layer_bytecode
from infra.constructs.shared_code import RUNTIME_PROVIDED, pruned
from nurture.config.compiled import DEVELOPER_TOOLS
from tests.conftest import REPO

LAYER = REPO / ".build" / "layers" / "dependencies" / "python"
LAMBDA = {**default_environment(), "python_version": "3.13", "python_full_version": "3.13.0",
          "platform_machine": "aarch64", "sys_platform": "linux", "platform_system": "Linux",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}


@pytest.fixture(scope="module")
def layer() -> Path:
    done = subprocess.run(["make", "layers"], cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return LAYER


def shipped_code() -> list[Path]:
    """The handlers and the library as the stack packages them (the CLI and local runtime excluded)."""
    library = REPO / "layers" / "nurture" / "python" / "nurture"
    excluded = [library / tool for tool in DEVELOPER_TOOLS]
    return [*REPO.glob("functions/*/*.py"),
            *(path for path in library.rglob("*.py") if not any(path.is_relative_to(e) for e in excluded))]


def _runtime_imports(tree: ast.Module) -> set[str]:
    """Top-level modules imported at run time: `if TYPE_CHECKING:` blocks are for the type checker only."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@cache
def third_party_imports() -> dict[str, list[str]]:
    """Each third-party module the shipped code imports, and the files that import it."""
    imported: dict[str, list[str]] = {}
    for path in shipped_code():
        for module in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module not in sys.stdlib_module_names and module not in ("nurture", "__future__"):
                imported.setdefault(module, []).append(str(path.relative_to(REPO)))
    return imported


def test_every_import_of_the_handlers_and_library_resolves_from_the_layer_or_the_runtime(layer):
    imports = third_party_imports()
    assert {"aws_lambda_powertools", "pydantic", "yaml", "jinja2", "holidays"} <= set(imports)
    missing = {module: files for module, files in imports.items() if module not in RUNTIME_PROVIDED.values()
               and not (layer / module).is_dir() and not (layer / f"{module}.py").is_file()}
    assert missing == {}


def test_what_the_layer_ships_needs_nothing_beyond_the_layer_and_the_runtime(layer):
    shipped = {}
    for metadata in layer.glob("*.dist-info/METADATA"):
        text = metadata.read_text(encoding="utf-8")
        name = canonicalize_name(next(line.split(":", 1)[1].strip() for line in text.splitlines()
                                      if line.startswith("Name:")))
        shipped[name] = [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines()
                         if line.startswith("Requires-Dist:")]
    assert "botocore" not in shipped and "boto3" not in shipped  # the runtime's own
    # Powertools is installed with its tracer extra; nothing else asks for an extra.
    extras = {"aws-lambda-powertools": "tracer"}
    unmet = {f"{name} needs {requirement}" for name, requirements in shipped.items() for requirement in requirements
             if (requirement.marker is None or requirement.marker.evaluate({**LAMBDA, "extra": extras.get(name, "")}))
             and canonicalize_name(requirement.name) not in set(shipped) | set(RUNTIME_PROVIDED)}
    assert unmet == set()


def test_the_modules_handlers_load_at_a_cold_start_ship_compiled_for_lambdas_python(layer):
    if (REPO / ".build" / "layers" / "dependencies.built").read_text(encoding="utf-8").strip() == "bytecode: none":
        pytest.skip("no Python 3.13 on this machine: `make layers` ships the layer as source only")
    compiled = LAYER / "aws_lambda_powertools" / "logging" / "__pycache__" / "logger.cpython-313.pyc"
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based and never checked: CDK's zip resets the timestamps
    assert (LAYER / "msgspec" / "__pycache__" / "__init__.cpython-313.pyc").is_file()
    # Only what a cold start loads: the holiday calendars of 200 countries stay source, and pydantic, which no
    # handler imports on a cold start (decision 90).
    assert not list((LAYER / "holidays" / "countries").rglob("*.pyc"))
    assert not list((LAYER / "pydantic").rglob("*.pyc"))
    assert sum(path.stat().st_size for path in LAYER.rglob("*.pyc")) < 6_000_000


def test_the_same_source_compiles_to_the_same_bytecode_wherever_it_is_staged(tmp_path):
    # A .pyc names its source: by where Lambda mounts it, not by the build's folder, or every synth would
    # ship a new layer for unchanged code.
    compiled = []
    for build in ("one", "two"):
        module = tmp_path / build / "python" / "nurture" / "example.py"
        module.parent.mkdir(parents=True)
        module.write_text("def hello():\n    return 'hello'\n", encoding="utf-8")
        layer_bytecode.compile_modules(tmp_path / build / "python", [module], sys.executable)
        (pyc,) = (module.parent / "__pycache__").glob("example.*.pyc")
        compiled.append(pyc.read_bytes())
    assert compiled[0] == compiled[1] and b"/opt/python/nurture/example.py" in compiled[0]


def test_stagings_unused_for_a_day_are_removed_but_the_newest_the_one_in_use_and_those_being_built(tmp_path):
    now = 1_800_000_000.0
    ages_in_hours = {"a": 1, "b": 2, "c": 30, "d": 40, "e": 50, "f": 60, "g": 70}
    for letter, hours in {**ages_in_hours, "tmp_building": 90}.items():
        folder = tmp_path / (letter * 16 if len(letter) == 1 else letter)
        (folder / "python").mkdir(parents=True)
        os.utime(folder, (now - hours * 3600, now - hours * 3600))
    removed = pruned(tmp_path, keep=tmp_path / ("g" * 16), now=now)
    # newest first: a, b, c, d kept (the newest four), e and f unused for over a day, g in use; the folder another
    # synth is building (mkdtemp's name) is not a staging yet
    assert sorted(path.name[0] for path in removed) == ["e", "f"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        *(letter * 16 for letter in "abcdg"), "tmp_building"]
    assert pruned(tmp_path, keep=tmp_path / ("g" * 16), now=now) == []
