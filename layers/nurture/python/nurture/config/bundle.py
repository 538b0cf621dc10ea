"""All of the marketer configuration, as one validated object."""

from __future__ import annotations

from functools import cached_property

from nurture.config.bots import BotRules
from nurture.config.campaigns import CampaignsConfig
from nurture.config.events import EventsConfig
from nurture.config.models import ApiSettings, DoubleOptInSettings, DownloadSettings, FormDefinition
from nurture.config.records import record, setting
from nurture.config.sales import SalesConfig
from nurture.config.scoring import ScoringRules
from nurture.config.segments import SegmentsConfig
from nurture.config.sequences import SequencesConfig
from nurture.config.subscriptions import SubscriptionsConfig
from nurture.config.templates import EmailTemplate
from nurture.domain.links import hosts_in


@record
class NurtureConfig:
    api: ApiSettings
    forms: dict[str, FormDefinition]
    scoring: ScoringRules
    sequences: SequencesConfig
    templates: dict[str, EmailTemplate]
    # Factories: an instance made here would be validated, and so built, on import.
    bots: BotRules = setting(default_factory=BotRules)
    segments: SegmentsConfig = setting(default_factory=SegmentsConfig)
    campaigns: CampaignsConfig = setting(default_factory=CampaignsConfig)
    subscriptions: SubscriptionsConfig = setting(default_factory=SubscriptionsConfig)
    double_opt_in: DoubleOptInSettings = setting(default_factory=DoubleOptInSettings)
    downloads: DownloadSettings = setting(default_factory=DownloadSettings)
    sales: SalesConfig = setting(default_factory=SalesConfig)
    events: EventsConfig = setting(default_factory=EventsConfig)

    @cached_property
    def link_hosts(self) -> frozenset[str]:
        """Where an email click may lead: every host the templates link to, and `link_domains`."""
        written = {host for template in self.templates.values() for text in template.texts() for host in hosts_in(text)}
        return frozenset(written | set(self.api.link_domains))

    @cached_property
    def rendered_custom_fields(self) -> frozenset[str]:
        """Custom form fields templates may show (checked for links at the door)."""
        return frozenset(field.name for form in self.forms.values() for field in form.custom_fields if field.rendered)
