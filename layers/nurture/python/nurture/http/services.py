"""The collaborators routes use, built on first use from the runtime settings and the config.

The lead store, which every API function uses, is imported with this module; every other adapter when it is
first built, so a function imports only the stores its routes use (a cold start of the forms function pays
for no campaign, audience or purchase code)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from nurture.adapters.lead_store import DynamoLeadStore
from nurture.adapters.token_keys import with_signer
from nurture.domain.capture import CaptureSettings
from nurture.domain.preferences.centre import PreferenceSettings
from nurture.domain.preferences.double_opt_in import DoubleOptInSettings
from nurture.domain.tokens import TokenSigner
from nurture.domain.tracking import TrackingSettings
from nurture.settings import marketer_config, runtime_settings

if TYPE_CHECKING:
    from nurture.adapters.account_store import DynamoAccountStore
    from nurture.adapters.audience_queue import AudienceQueue
    from nurture.adapters.audience_store import DynamoAudienceStore
    from nurture.adapters.audit_log import DynamoAuditLog
    from nurture.adapters.campaign_store import DynamoCampaignStore
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.adapters.event_store import DynamoRegistrations
    from nurture.adapters.kpi_store import DynamoKpis
    from nurture.adapters.material_store import S3Materials
    from nurture.adapters.purchase_store import DynamoPurchaseStore
    from nurture.adapters.send_queue import SendQueue

T = TypeVar("T")
_BUILT: list[Any] = []  # every collaborator built once, forgotten together by reset()


def built_once(factory: Callable[[], T]) -> Callable[[], T]:
    cached = cache(factory)
    _BUILT.append(cached)
    return cached


@built_once
def lead_store() -> DynamoLeadStore:
    return DynamoLeadStore(runtime_settings().table_name)


@built_once
def account_store() -> DynamoAccountStore:
    from nurture.adapters.account_store import DynamoAccountStore

    return DynamoAccountStore(runtime_settings().table_name)


@built_once
def purchase_store() -> DynamoPurchaseStore:
    from nurture.adapters.purchase_store import DynamoPurchaseStore

    return DynamoPurchaseStore(runtime_settings().table_name)


@built_once
def campaign_store() -> DynamoCampaignStore:
    from nurture.adapters.campaign_store import DynamoCampaignStore

    return DynamoCampaignStore(runtime_settings().table_name)


@built_once
def audience_store() -> DynamoAudienceStore:
    from nurture.adapters.audience_store import DynamoAudienceStore

    return DynamoAudienceStore(runtime_settings().table_name)


@built_once
def deliverability_store() -> DynamoDeliverabilityStore:
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore

    return DynamoDeliverabilityStore(runtime_settings().table_name)


@built_once
def audience_queue() -> AudienceQueue:
    from nurture.adapters.audience_queue import AudienceQueue

    return AudienceQueue(runtime_settings().audience_queue_url)


@built_once
def send_queue() -> SendQueue:
    from nurture.adapters.send_queue import SendQueue

    return SendQueue(runtime_settings().send_queue_url)


@built_once
def kpi_store() -> DynamoKpis:
    from nurture.adapters.kpi_store import DynamoKpis

    return DynamoKpis(runtime_settings().table_name)


@built_once
def audit_log() -> DynamoAuditLog:
    from nurture.adapters.audit_log import DynamoAuditLog

    return DynamoAuditLog(runtime_settings().table_name)


@built_once
def registrations() -> DynamoRegistrations:
    from nurture.adapters.event_store import DynamoRegistrations

    return DynamoRegistrations(runtime_settings().table_name)


@built_once
def materials() -> S3Materials:
    from nurture.adapters.material_store import S3Materials

    settings = runtime_settings()
    return S3Materials(settings.materials_bucket, shipped=settings.shipped_materials)


def verified(use: Callable[[TokenSigner], T]) -> T:
    """`use` the tracking keyring (read again if a token names a rotation this container has not seen)."""
    return with_signer(runtime_settings().signing_key_parameter, marketer_config().api.token_lifetime_days, use)


def capture_settings() -> CaptureSettings:
    api = marketer_config().api
    return CaptureSettings(duplicate_window_seconds=api.duplicate_window_seconds,
                           event_retention_days=api.event_retention_days, merge_events=api.limits.merge_events,
                           unconfirmed_kept_days=marketer_config().double_opt_in.unconfirmed_kept_days)


def preference_settings() -> PreferenceSettings:
    config = marketer_config()
    return PreferenceSettings(event_retention_days=config.api.event_retention_days,
                              subscriptions=config.subscriptions)


def double_opt_in_settings() -> DoubleOptInSettings:
    config = marketer_config()
    return DoubleOptInSettings(event_retention_days=config.api.event_retention_days,
                               kept_days=config.double_opt_in.unconfirmed_kept_days)


def tracking_settings() -> TrackingSettings:
    api = marketer_config().api
    return TrackingSettings(event_retention_days=api.event_retention_days, max_events=api.limits.beacon_events,
                            bots=marketer_config().bots, link_hosts=marketer_config().link_hosts,
                            visitor_events_per_minute=api.limits.visitor_events_per_minute)


def reset() -> None:
    for built in _BUILT:
        built.cache_clear()
