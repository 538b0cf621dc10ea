"""Lambda layers: third-party dependencies, the shared `nurture` library, and the marketer config."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import layer_bytecode, paths
from nurture.config import load_config
from nurture.config.compiled import (
    COMPILED_FILE,
    DEVELOPER_TOOLS,
    FINGERPRINT_FILE,
    CompileFailed,
    compiled_json,
    library_fingerprint,
    source_fingerprint,
)
from nurture.config.loader import read_config_files
from nurture.config.materials import ASSETS, material_problems
from nurture.config.versions import digest
from nurture.domain.errors import ConfigInvalid

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# What the Lambda Python runtime already ships, never put in the dependency layer: boto3 and its own
# dependencies, distribution -> the module it provides.
RUNTIME_PROVIDED = {"boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "urllib3": "urllib3",
                    "python-dateutil": "dateutil", "six": "six", "jmespath": "jmespath"}
# What a staged layer's content depends on beside its files: the packages that validate and dump the config, and
# the staging itself (bump it when the staging changes).
STAGING = 1
STAGED_WITH = ("pydantic", "pydantic-core", "PyYAML", "Jinja2", "holidays")
LIBRARY_SOURCE = paths.LIBRARY_LAYER / "python" / "nurture"


class SharedCode(Construct):
    def __init__(self, scope: Construct, construct_id: str, dependencies_dir: Path,
                 api_overrides: dict[str, Any] | None = None) -> None:
        super().__init__(scope, construct_id)
        if not (dependencies_dir / "python").is_dir():
            raise FileNotFoundError(
                f"The dependency layer is not built at {dependencies_dir}: run `make layers` first."
            )
        self.dependencies = self._layer("Dependencies", lambda_.Code.from_asset(str(dependencies_dir)),
                                        "Powertools, pydantic and PyYAML for Lambda Python 3.13 arm64")
        self.library = self._layer("Library", lambda_.Code.from_asset(str(staged_library())),
                                   "The nurture package: domain, adapters and HTTP layer")
        # Mounted at /opt/config: the functions load its compiled.json (the YAML files, validated at synth).
        staged_config = deployed_config(api_overrides or {})
        self.config = self._layer("Config", lambda_.Code.from_asset(str(staged_config)),
                                  "Marketer configuration (config/*.yaml, and compiled)")
        # What the config layer holds: config version 1.
        self.config_dir = staged_config / "config"

    def _layer(self, name: str, code: lambda_.Code, description: str) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(self, name, code=code, description=description,
                                    compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE])

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.library, self.config]


def deployed_config(api_overrides: dict[str, Any]) -> Path:
    """config/ with the deployment's overrides of api.yaml, validated like `nurture config check` (raises
    ConfigInvalid, naming each problem), and compiled: what a function loads without YAML or validation.

    Staged under .build/ by content, so a synth with the same settings reuses it.
    """
    def build(folder: Path) -> None:
        config = folder / "config"
        # Materials are not the functions' to read from a layer: they ship as file assets (constructs/materials.py).
        shutil.copytree(paths.CONFIG, config, ignore=shutil.ignore_patterns(".*", "__pycache__", COMPILED_FILE,
                                                                            ASSETS))
        if api_overrides:
            api_file = config / "api.yaml"
            api = {**(yaml.safe_load(api_file.read_text(encoding="utf-8")) or {}), **api_overrides}
            api_file.write_text(yaml.safe_dump(api, allow_unicode=True, sort_keys=False), encoding="utf-8")
        validated = load_config(config, check_template_syntax=True)
        missing = material_problems(paths.CONFIG, validated.forms, validated.events)
        if missing:
            raise ConfigInvalid(missing)
        try:
            compiled = compiled_json(validated, digest(read_config_files(config)))
        except CompileFailed as failed:  # the functions validate the files instead, as before decision 73
            print(f"warning: {failed}; functions will validate the config at each cold start", file=sys.stderr)
            return
        (config / COMPILED_FILE).write_text(compiled, encoding="utf-8")

    content = [api_overrides, _tree_digest(paths.CONFIG), library_fingerprint(), _staged_with()]
    return _staged("config", json.dumps(content, sort_keys=True), build)


def staged_library() -> Path:
    """The nurture package as its layer ships it (`library_layer`), compiled by Lambda's Python when this machine
    has one (`make layers` says), since source in read-only /opt is compiled again at every cold start
    (docs/benchmarks.md)."""
    python = layer_bytecode.lambda_python()
    tree = _tree_digest(LIBRARY_SOURCE, skip=lambda path: path.suffix == ".pyc" or "__pycache__" in path.parts or
                        path.relative_to(LIBRARY_SOURCE).parts[0] in DEVELOPER_TOOLS)
    version = layer_bytecode.python_version(python) if python else "source"
    return _staged("library", json.dumps([tree, version, STAGING]),
                   lambda folder: library_layer(folder / "python", python))


def library_layer(python_folder: Path, python: str | None) -> None:
    """The nurture package into `python_folder` without the developer tools, with the fingerprint the compiled
    config names (read, not hashed, at a cold start: nurture.config.compiled), compiled by `python` if given."""

    def shipped(folder: str, names: list[str]) -> set[str]:
        dev_tools = set(DEVELOPER_TOOLS) if Path(folder) == LIBRARY_SOURCE else set()
        return {name for name in names if name in dev_tools or name == "__pycache__" or name.endswith(".pyc")}

    package = python_folder / "nurture"
    shutil.copytree(LIBRARY_SOURCE, package, ignore=shipped)
    (package / FINGERPRINT_FILE).write_text(source_fingerprint(package), encoding="ascii")
    if python:
        layer_bytecode.compile_modules(python_folder, sorted(package.rglob("*.py")), python)


def _staged_with() -> list[str]:
    return [f"staging {STAGING}", *(f"{name} {importlib.metadata.version(name)}" for name in STAGED_WITH)]


def _staged(kind: str, content: str, build: Callable[[Path], None]) -> Path:
    """A folder under .build/<kind>/ named by `content`'s digest, built once; a synth with the same content
    reuses it. Stagings no synth has used for a day are removed, beyond the newest few (`pruned`)."""
    staged = paths.REPO / ".build" / kind / hashlib.sha256(content.encode()).hexdigest()[:16]
    try:
        os.utime(staged)  # used now: kept by `pruned`
    except FileNotFoundError:  # not staged yet (or pruned a moment ago by another synth): staged now
        staged.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=staged.parent))
        try:
            build(building)
            building.rename(staged)
        except OSError:
            if not staged.is_dir():  # else another synth staged the same content first
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        pruned(staged.parent, keep=staged)
    return staged


# A staging is removed once it is older than this and not among the newest: a synth running at the same time
# (the tests synthesize in parallel) uses its staging within minutes of touching it.
UNUSED_FOR = 24 * 3600
NEWEST_KEPT = 4
STAGING_NAME = re.compile(r"[0-9a-f]{16}")  # `_staged`'s names; mkdtemp's are tmp*


def pruned(folder: Path, keep: Path, now: float | None = None) -> list[Path]:
    """Remove `folder`'s stagings unused for UNUSED_FOR seconds, but for the NEWEST_KEPT newest and `keep`;
    the removed ones. Each config or library change stages anew, so .build/ grew with every edit."""
    moment = time.time() if now is None else now
    used: dict[Path, float] = {}
    for path in folder.iterdir():
        if path != keep and STAGING_NAME.fullmatch(path.name):  # not another synth's folder being built
            with contextlib.suppress(FileNotFoundError):  # another synth pruned it a moment ago
                used[path] = path.stat().st_mtime
    newest_first = sorted(used, key=used.__getitem__, reverse=True)
    removed = [path for path in newest_first[NEWEST_KEPT:] if moment - used[path] > UNUSED_FOR]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _tree_digest(folder: Path, skip: Callable[[Path], bool] = lambda path: False) -> str:
    files = sorted(path for path in folder.rglob("*") if path.is_file() and not skip(path))
    hasher = hashlib.sha256()
    for path in files:
        hasher.update(str(path.relative_to(folder)).encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()
