"""A config change proposed from the console, and the push checks the CLI and the console share."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from nurture.config.loader import load_config_files, read_config_files
from nurture.config.proposals import MAX_FILE_BYTES, console_push_problems, late_campaigns, proposed_bundle
from nurture.domain.errors import ConfigInvalid
from tests.conftest import CONFIG_DIR

SHIPPED = read_config_files(CONFIG_DIR)
AFTER_JANUARY = datetime(2027, 1, 20, tzinfo=UTC)  # newsletter-2027-01 went out on the 13th


class States:
    """Campaigns' runtime states by id, as the campaign store answers."""

    def __init__(self, statuses: dict[str, str]):
        self._statuses = statuses

    def state(self, campaign_id: str) -> SimpleNamespace | None:
        status = self._statuses.get(campaign_id)
        return SimpleNamespace(status=status) if status else None


def edited(name: str, old: str, new: str) -> dict[str, str]:
    assert old in SHIPPED[name]
    return {**SHIPPED, name: SHIPPED[name].replace(old, new)}


def test_a_proposal_replaces_the_files_it_names_and_may_add_a_template():
    template = "subject: {ja: 件名, en: Subject}\n"
    bundle = proposed_bundle(SHIPPED, {"scoring.yaml": "x", "templates/spring_offer.yaml": template})
    assert bundle == {**SHIPPED, "scoring.yaml": "x", "templates/spring_offer.yaml": template}


@pytest.mark.parametrize("name", ["../secrets.yaml", "templates/../../x.yaml", "templates/a.yml", "README.md",
                                  "templates/A b.yaml", "/etc/passwd", ""])
def test_a_name_that_is_not_a_config_files_is_refused_whole(name):
    with pytest.raises(ConfigInvalid) as refused:
        proposed_bundle(SHIPPED, {"scoring.yaml": "x", name: "y"})
    assert "not a config file" in refused.value.problems[0]


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(ConfigInvalid, match="over 256 KB"):
        proposed_bundle(SHIPPED, {"scoring.yaml": "#" * (MAX_FILE_BYTES + 1)})


def test_a_past_campaign_is_late_unless_the_active_version_has_it_as_it_is_or_it_was_started():
    active = load_config_files(SHIPPED, "v1")
    renamed = load_config_files(edited("campaigns.yaml", "メルマガ 2027年1月号", "1月号（改）"), "proposed")
    never_started = States({})

    assert late_campaigns(active, active.campaigns.campaigns, AFTER_JANUARY, never_started) == []
    (late,) = late_campaigns(renamed, active.campaigns.campaigns, AFTER_JANUARY, never_started)
    assert late.startswith("campaigns.newsletter-2027-01: its send time")
    started = States({"newsletter-2027-01": "sent"})
    assert late_campaigns(renamed, active.campaigns.campaigns, AFTER_JANUARY, started) == []
    assert late_campaigns(renamed, active.campaigns.campaigns, AFTER_JANUARY,
                          States({"newsletter-2027-01": "draft"})) == [late]


def test_only_the_cli_pushes_a_new_material_or_a_newly_used_webhook():
    active = load_config_files(SHIPPED, "v1")
    assert console_push_problems(active, active) == []
    material = load_config_files(edited("forms.yaml", "whitepaper-lead-nurturing-101.pdf", "new-guide.pdf"), "p")
    (problem,) = console_push_problems(material, active)
    assert "new-guide.pdf is new" in problem and "nurture config push" in problem
    sales = edited("sales.yaml", "channels: [email, west_slack]", "channels: [email, osaka_chat]")["sales.yaml"]
    sales = sales.replace("webhooks:\n", "webhooks:\n  osaka_chat: {kind: slack, name: '#osaka'}\n", 1)
    (problem,) = console_push_problems(load_config_files({**SHIPPED, "sales.yaml": sales}, "p"), active)
    assert problem.startswith("sales.yaml: osaka_chat is newly used")
