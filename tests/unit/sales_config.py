"""Editing the shipped config/sales.yaml in a test's own folder, to see what `config check` says of it."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from nurture.config import load_config
from nurture.domain.errors import ConfigInvalid
from tests.conftest import CONFIG_DIR


def sales_problems_after(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> tuple[set[str], str]:
    """`config check`'s problems with the shipped config/sales.yaml edited so, and how each problem starts."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    sales = yaml.safe_load((config / "sales.yaml").read_text(encoding="utf-8"))
    edit(sales)
    (config / "sales.yaml").write_text(yaml.safe_dump(sales, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigInvalid) as refused:
        load_config(config)
    return set(refused.value.problems), f"{config}/sales.yaml: "
