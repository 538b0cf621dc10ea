"""Download forms' materials: files of the config folder's `assets/`, named by the forms' `asset`. `cdk deploy`
uploads the folder to the materials bucket; `nurture config push` uploads the files its forms name; the local
system uploads the folder as it starts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from nurture.config.models import ASSET_NAME_PATTERN, FormDefinition

ASSETS = "assets"
MAX_MATERIAL_BYTES = 100 * 1024 * 1024  # a brochure or a whitepaper, not a video


def named_materials(config_dir: Path, forms: Mapping[str, FormDefinition]) -> dict[str, Path]:
    """Each material a download form names, and where its file is (whether or not it is there)."""
    return {form.asset: config_dir / ASSETS / form.asset for form in forms.values()
            if form.kind == "download" and form.asset}


def material_problems(config_dir: Path, forms: Mapping[str, FormDefinition]) -> list[str]:
    """A download form whose file is missing, or too large to hand out."""
    problems = []
    for form_id, form in sorted(forms.items()):
        if form.kind != "download" or not form.asset:
            continue
        path = config_dir / ASSETS / form.asset
        if not path.is_file():
            problems.append(f"{config_dir}/forms.yaml: forms.{form_id}.asset: {ASSETS}/{form.asset} is not there")
        elif path.stat().st_size > MAX_MATERIAL_BYTES:
            problems.append(f"{config_dir}/forms.yaml: forms.{form_id}.asset: {ASSETS}/{form.asset} is over "
                            f"{MAX_MATERIAL_BYTES // (1024 * 1024)} MB")
    return problems


def shipped_materials(config_dir: Path) -> dict[str, Path]:
    """Every file of the folder's `assets/` whose name a form may give."""
    folder = config_dir / ASSETS
    return {path.name: path for path in sorted(folder.iterdir()) if path.is_file()
            and re.fullmatch(ASSET_NAME_PATTERN, path.name)} if folder.is_dir() else {}
