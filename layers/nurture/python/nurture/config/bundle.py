"""All of the marketer configuration, as one validated object."""

from __future__ import annotations

from nurture.config.bots import BotRules
from nurture.config.models import ApiSettings, FormDefinition, StrictModel
from nurture.config.scoring import ScoringRules
from nurture.config.sequences import SequencesConfig
from nurture.config.templates import EmailTemplate


class NurtureConfig(StrictModel):
    api: ApiSettings
    forms: dict[str, FormDefinition]
    scoring: ScoringRules
    sequences: SequencesConfig
    templates: dict[str, EmailTemplate]
    bots: BotRules = BotRules()
