"""Lambda layers: third-party dependencies, the shared `nurture` library, and the marketer config."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import paths

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# What the Lambda Python runtime already ships, never put in the dependency layer: boto3 and its own
# dependencies, distribution -> the module it provides.
RUNTIME_PROVIDED = {"boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "urllib3": "urllib3",
                    "python-dateutil": "dateutil", "six": "six", "jmespath": "jmespath"}
# The CLI and the local runtime are developer tools: they never ship to Lambda.
LIBRARY_EXCLUDES = ["python/nurture/cli", "python/nurture/local", "**/__pycache__", "**/*.pyc"]


class SharedCode(Construct):
    def __init__(self, scope: Construct, construct_id: str, dependencies_dir: Path) -> None:
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
        self.config = self._layer("Config", lambda_.Code.from_asset(str(paths.REPO),
                                                                   exclude=["*", ".*", "!config", "!config/**"]),
                                  "Marketer configuration (config/*.yaml)")

    def _layer(self, name: str, code: lambda_.Code, description: str) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(self, name, code=code, description=description,
                                    compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE])

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.library, self.config]
