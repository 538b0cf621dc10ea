"""Materials: files of the config folder's `assets/`, named by download forms' `asset` and by events' thank-you
(`follow_up.material`). `cdk deploy` ships the folder; `nurture config push` uploads the files its config names;
the local system uploads the folder as it starts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from nurture.config.events import EventsConfig
from nurture.config.models import ASSET_NAME_PATTERN, FormDefinition

ASSETS = "assets"
MAX_MATERIAL_BYTES = 100 * 1024 * 1024  # a brochure or a whitepaper, not a video


def _named(forms: Mapping[str, FormDefinition], events: EventsConfig) -> list[tuple[str, str]]:
    """(where it is named, the file's name) of each material: a download form's, an event's thank-you's."""
    named = [(f"forms.yaml: forms.{form_id}.asset", form.asset) for form_id, form in sorted(forms.items())
             if form.kind == "download" and form.asset]
    named += [(f"events.yaml: events.{event_id}.follow_up.material", event.follow_up.material)
              for event_id, event in sorted(events.events.items()) if event.follow_up.material]
    return named


def material_names(forms: Mapping[str, FormDefinition], events: EventsConfig) -> set[str]:
    """The file name of every material the config names."""
    return {asset for _, asset in _named(forms, events)}


def named_materials(config_dir: Path, forms: Mapping[str, FormDefinition], events: EventsConfig) -> dict[str, Path]:
    """Each material the config names, and where its file is (whether or not it is there)."""
    return {asset: config_dir / ASSETS / asset for _, asset in _named(forms, events)}


def material_problems(config_dir: Path, forms: Mapping[str, FormDefinition], events: EventsConfig) -> list[str]:
    """A material whose file is missing, or too large to hand out."""
    problems = []
    for where, asset in _named(forms, events):
        path = config_dir / ASSETS / asset
        if not path.is_file():
            problems.append(f"{config_dir}/{where}: {ASSETS}/{asset} is not there")
        elif path.stat().st_size > MAX_MATERIAL_BYTES:
            problems.append(f"{config_dir}/{where}: {ASSETS}/{asset} is over {MAX_MATERIAL_BYTES // (1024 * 1024)} MB")
    return problems


def shipped_materials(config_dir: Path) -> dict[str, Path]:
    """Every file of the folder's `assets/` whose name a form may give."""
    folder = config_dir / ASSETS
    return {path.name: path for path in sorted(folder.iterdir()) if path.is_file()
            and re.fullmatch(ASSET_NAME_PATTERN, path.name)} if folder.is_dir() else {}
