"""What a push must pass beyond `nurture config check`, for the CLI and the console alike; and a change proposed
from the console: the active version's files with the ones the marketer edited, checked before anything is
stored. The console edits the YAML only: a material or a webhook the active version does not already use needs
the CLI (it uploads the file; `nurture webhooks set` stores the secret)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from nurture.config.bundle import NurtureConfig
from nurture.config.campaigns import Campaign, past_campaigns
from nurture.config.loader import CONFIG_FILES, TEMPLATES
from nurture.config.materials import material_names
from nurture.config.sales import secrets_needed
from nurture.domain.campaigns.lifecycle import CampaignState
from nurture.domain.errors import ConfigInvalid

MAX_FILE_BYTES = 256 * 1024  # far above any config file; a page cannot post a megabyte of YAML by mistake
TEMPLATE_FILE = re.compile(rf"{TEMPLATES}/[a-z0-9][a-z0-9_-]{{0,63}}\.yaml")


def proposed_bundle(active: Mapping[str, str], changed: Mapping[str, str]) -> dict[str, str]:
    """The active version's files with `changed` put in their place (a template file may be added). A name that
    is not a config file's, or a file over the size limit, is refused whole."""
    problems = [f"{name[:80]!r}: not a config file (one of {', '.join(CONFIG_FILES)} or {TEMPLATES}/<name>.yaml)"
                for name in changed if name not in CONFIG_FILES and not TEMPLATE_FILE.fullmatch(name)]
    problems += [f"{name}: over {MAX_FILE_BYTES // 1024} KB" for name, text in changed.items()
                 if name in CONFIG_FILES or TEMPLATE_FILE.fullmatch(name)
                 if len(text.encode("utf-8")) > MAX_FILE_BYTES]
    if problems:
        raise ConfigInvalid(problems)
    return {**active, **changed}


class CampaignStates(Protocol):
    def state(self, campaign_id: str) -> CampaignState | None: ...


def late_campaigns(config: NurtureConfig, known: Mapping[str, Campaign], now: datetime,
                   states: CampaignStates) -> list[str]:
    """Campaigns a push adds or changes whose time has passed without the target starting them: pushed, they
    would never go out. One the active version (`known`) already has as it is, sent or not, is no news; one
    whose state is past draft was started."""
    window = config.sequences.send_window
    unchanged = {name for name, campaign in config.campaigns.campaigns.items() if known.get(name) == campaign}
    late = {name for name, campaign in config.campaigns.campaigns.items()
            if campaign.starts(window) <= now and name not in unchanged}
    started = {name for name in late if (state := states.state(name)) is not None and state.status != "draft"}
    return past_campaigns(config.campaigns, window, now, exempt=unchanged | started)


def console_push_problems(config: NurtureConfig, active: NurtureConfig) -> list[str]:
    """What only the CLI can push: materials and webhooks the active version does not already use."""
    new = material_names(config.forms, config.events) - material_names(active.forms, active.events)
    problems = [f"the material {name} is new: push this change with `nurture config push`, which uploads it"
                for name in sorted(new)]
    problems += [f"sales.yaml: {webhook} is newly used: run `nurture webhooks set {webhook}` and push with the CLI"
                 for webhook in sorted(set(secrets_needed(config.sales)) - set(secrets_needed(active.sales)))]
    return problems
