"""Shared fixtures: an isolated AWS environment, and Nurture's resources built from their definitions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_EVENTS = REPO.parent / "shared" / "events"
CONFIG_DIR = REPO / "config"

# No test may reach real AWS: fake credentials everywhere, set before boto3 is imported by a test.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="ap-northeast-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    # Powertools reads these when its Logger and Metrics are created, possibly before any fixture runs.
    POWERTOOLS_SERVICE_NAME="nurture",
    POWERTOOLS_METRICS_NAMESPACE="Nurture",
    POWERTOOLS_TRACE_DISABLED="true",
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process, with the table and secret created exactly as the local runtime creates them."""
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from nurture.adapters.aws import reset_clients
    from nurture.http import services
    from nurture.local import emulator
    from nurture.local.resources import LocalResources, create_resources
    from nurture.settings import reload

    emulator.install()  # the emulator as the local runtime runs it
    resources = LocalResources()
    for name, value in resources.environment(str(CONFIG_DIR)).items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        create_resources(resources)
        reset_clients()
        reload()
        services.reset()
        parameters.clear_caches()
        yield
    reset_clients()
    reload()
    services.reset()
