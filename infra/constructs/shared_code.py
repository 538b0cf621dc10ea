"""Lambda layers: third-party dependencies, the shared `nurture` library, and the marketer config."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import paths
from nurture.config import load_config

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# What the Lambda Python runtime already ships, never put in the dependency layer: boto3 and its own
# dependencies, distribution -> the module it provides.
RUNTIME_PROVIDED = {"boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "urllib3": "urllib3",
                    "python-dateutil": "dateutil", "six": "six", "jmespath": "jmespath"}
# The CLI and the local runtime are developer tools: they never ship to Lambda.
LIBRARY_EXCLUDES = ["python/nurture/cli", "python/nurture/local", "**/__pycache__", "**/*.pyc"]


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
        self.library = self._layer("Library", lambda_.Code.from_asset(str(paths.LIBRARY_LAYER),
                                                                     exclude=LIBRARY_EXCLUDES),
                                   "The nurture package: domain, adapters and HTTP layer")
        # Mounted at /opt/config: the functions read forms.yaml and api.yaml from there.
        config = (lambda_.Code.from_asset(str(deployed_config(api_overrides))) if api_overrides else
                  lambda_.Code.from_asset(str(paths.REPO), exclude=["*", ".*", "!config", "!config/**"]))
        self.config = self._layer("Config", config, "Marketer configuration (config/*.yaml)")
        # What the config layer holds: config version 1.
        self.config_dir = deployed_config(api_overrides) / "config" if api_overrides else paths.CONFIG

    def _layer(self, name: str, code: lambda_.Code, description: str) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(self, name, code=code, description=description,
                                    compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE])

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.library, self.config]


def deployed_config(api_overrides: dict[str, Any]) -> Path:
    """config/ with the deployment's overrides of api.yaml, validated like `nurture config check`.

    Staged under .build/ by content, so a synth with the same settings reuses it.
    """
    api_file = paths.CONFIG / "api.yaml"
    api = {**(yaml.safe_load(api_file.read_text(encoding="utf-8")) or {}), **api_overrides}
    digest = hashlib.sha256(json.dumps([api, _tree_digest(paths.CONFIG)], sort_keys=True).encode()).hexdigest()
    staged = paths.REPO / ".build" / "config" / digest[:16]
    if not staged.is_dir():
        staged.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=staged.parent))
        try:
            shutil.copytree(paths.CONFIG, building / "config", ignore=shutil.ignore_patterns(".*", "__pycache__"))
            (building / "config" / "api.yaml").write_text(
                yaml.safe_dump(api, allow_unicode=True, sort_keys=False), encoding="utf-8")
            building.rename(staged)
        except OSError:
            if not staged.is_dir():  # else another synth staged the same content first
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
    load_config(staged / "config", check_template_syntax=True)  # raises ConfigInvalid, naming each problem
    return staged


def _tree_digest(folder: Path) -> str:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    hasher = hashlib.sha256()
    for path in files:
        hasher.update(str(path.relative_to(folder)).encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()
