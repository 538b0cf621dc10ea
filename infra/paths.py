"""Folders the stack packages, relative to the repository root (where cdk.json lives)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIBRARY_LAYER = REPO / "layers" / "nurture"
CONFIG = REPO / "config"
# Built by `make layers` (pip for Lambda's platform, no Docker); the context key overrides it.
DEPENDENCIES_LAYER = REPO / ".build" / "layers" / "dependencies"
