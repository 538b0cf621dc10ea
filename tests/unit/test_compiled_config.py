"""The compiled config: the shipped YAML validated once, read back by a function as the same models without
validating or parsing YAML again."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from nurture.config.bundle import NurtureConfig
from nurture.config.compiled import CompileFailed, compiled_json, from_compiled
from nurture.config.loader import load_config, read_config_files
from nurture.config.records import dumped
from nurture.config.versions import digest
from nurture.local.resources import LocalResources
from tests.conftest import CONFIG_DIR, REPO


@pytest.fixture(scope="module")
def shipped() -> tuple[str, str]:
    files = read_config_files(CONFIG_DIR)
    return compiled_json(load_config(CONFIG_DIR), digest(files)), digest(files)


def test_the_shipped_config_reads_back_as_the_validated_models(shipped):
    text, bundle = shipped
    config, validated = from_compiled(text, bundle), load_config(CONFIG_DIR)

    assert config == validated
    assert config is not None and dumped(NurtureConfig, config) == dumped(NurtureConfig, validated)
    # Types JSON does not have come back as themselves, not as strings or lists.
    assert config.campaigns.campaigns
    for name, campaign in config.campaigns.campaigns.items():
        original = validated.campaigns.campaigns[name]
        assert (type(campaign.send_at), type(campaign.send_on)) == (type(original.send_at), type(original.send_on))
    assert type(config.sequences.send_window.start) is type(validated.sequences.send_window.start)


@pytest.mark.parametrize("damage", ["library", "digest", "format", "truncated"])
def test_a_compiled_config_made_elsewhere_or_damaged_is_refused_for_the_files_to_be_validated(shipped, damage):
    text, bundle = shipped
    document = json.loads(text)
    if damage == "truncated":
        changed = text[: len(text) // 2]
    else:
        document[damage] = "something else" if damage != "format" else 2
        changed = json.dumps(document)

    assert from_compiled(changed, bundle) is None


def test_a_function_loading_the_compiled_config_neither_parses_yaml_nor_imports_pydantic(tmp_path):
    staged = tmp_path / "config"
    staged.mkdir()
    for name, text in read_config_files(CONFIG_DIR).items():
        (staged / name).parent.mkdir(exist_ok=True)
        (staged / name).write_text(text, encoding="utf-8")
    (staged / "compiled.json").write_text(compiled_json(load_config(staged), digest(read_config_files(staged))),
                                          encoding="utf-8")
    probe = ("import sys; sys.path.insert(0, 'layers/nurture/python'); import functions.notifier.handler; "
             "from nurture.settings import marketer_config; from nurture.config.records import _adapters; "
             "config = marketer_config(); assert config.forms['contact'].title; "
             "print(sorted(m for m in ('yaml', 'jinja2', 'pydantic', 'pydantic_core') if m in sys.modules), "
             "len(_adapters))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True,
                          # As the stack sets it, without a config store: the deployed version only.
                          env={**LocalResources().environment(str(staged)), "CONFIG_BUCKET": "", "PATH": ""})
    assert done.stdout.strip().splitlines()[-1] == "[] 0"


def test_a_config_the_rebuild_cannot_read_back_is_not_compiled_and_says_where(shipped, monkeypatch):
    def written_unreadably(model: Any, value: Any, **options: Any) -> Any:
        data = dumped(model, value, **options)
        data["sequences"]["send_window"]["start"] = "9 o'clock"  # as if a type were written one way, read another
        return data

    monkeypatch.setattr("nurture.config.compiled.dumped", written_unreadably)
    with pytest.raises(CompileFailed, match=re.escape("sequences.send_window.start")):
        compiled_json(load_config(CONFIG_DIR), shipped[1])
