"""Dispatcher function: each EventBridge Scheduler tick, queue the leads whose step email is due, start
the campaigns whose time has come, remove the double opt-in leads never confirmed in time, chase
salespeople's overdue verdicts on hot leads, queue the seminar reminders due, offer free seminar seats to
their waitlists and review the customers whose RFM scores or CPM segment may have moved."""

from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture import keys
from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.audience_queue import AudienceQueue
from nurture.adapters.audience_store import DynamoAudienceStore
from nurture.adapters.campaign_store import DynamoCampaignStore
from nurture.adapters.dispatch_store import DynamoDispatchStore
from nurture.adapters.event_store import DynamoRegistrations
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.adapters.purchase_store import DynamoPurchaseStore
from nurture.adapters.send_queue import SendQueue
from nurture.domain.campaigns.start import release_held, start_due_campaigns
from nurture.domain.clock import utc_now
from nurture.domain.customers.review import review_customers
from nurture.domain.dispatch import tick
from nurture.domain.errors import StoreUnavailable
from nurture.domain.events.reminders import queue_reminders
from nurture.domain.events.seats import offer_free_seats
from nurture.domain.preferences.double_opt_in import remove_expired
from nurture.domain.sales.verdicts import chase_verdicts
from nurture.observability import logger, metrics, traced
from nurture.settings import config_version, marketer_config, pin_config, runtime_settings


@cache
def collaborators() -> tuple[DynamoDispatchStore, SendQueue]:
    settings = runtime_settings()
    return DynamoDispatchStore(settings.table_name), SendQueue(settings.send_queue_url)


@cache
def lead_store() -> DynamoLeadStore:
    return DynamoLeadStore(runtime_settings().table_name)


@cache
def registrations() -> DynamoRegistrations:
    return DynamoRegistrations(runtime_settings().table_name)


@cache
def purchase_store() -> DynamoPurchaseStore:
    return DynamoPurchaseStore(runtime_settings().table_name)


@cache
def alert_queue() -> AlertQueue:
    return AlertQueue(runtime_settings().alert_queue_url)


@cache
def campaign_collaborators() -> tuple[DynamoCampaignStore, DynamoAudienceStore, AudienceQueue]:
    settings = runtime_settings()
    return (DynamoCampaignStore(settings.table_name), DynamoAudienceStore(settings.table_name),
            AudienceQueue(settings.audience_queue_url))


def chase(now: datetime) -> dict[str, int]:
    """Overdue verdicts: a lead that cannot be chased now is logged and tried again next tick; nothing here stops
    the step emails and campaigns."""
    config, settings = marketer_config(), runtime_settings()
    try:
        chased = chase_verdicts(lead_store(), alert_queue(), config.sales, config.scoring,
                                settings.sales_api_url or settings.public_api_url, now,
                                config.api.event_retention_days)
    except StoreUnavailable:
        logger.exception("overdue verdicts could not be read: tried again next tick")
        return {"verdicts_reminded": 0, "verdicts_escalated": 0}
    if chased.reminded or chased.escalated:
        logger.info("overdue verdicts chased", extra={"reminded": chased.reminded, "escalated": chased.escalated})
    if chased.failed:
        logger.error("overdue verdicts not chased: tried again next tick", extra={"leads": chased.failed})
    return {"verdicts_reminded": chased.reminded, "verdicts_escalated": chased.escalated}


def customers(now: datetime) -> dict[str, int]:
    """The customers' reviews due: one that cannot be done now is logged and done next tick; nothing here stops
    the step emails and campaigns."""
    config = marketer_config()
    try:
        result = review_customers(purchase_store(), now, config.scoring.customers, config.scoring.timezone,
                                  config.api.event_retention_days)
    except StoreUnavailable:
        logger.exception("customers' reviews could not be read: tried again next tick")
        return {"customers_reviewed": 0, "customers_moved": 0}
    if result.reviewed:
        logger.info("customers reviewed", extra={"reviewed": result.reviewed, "moved": result.moved})
    if result.failed:
        logger.error("customers not reviewed: tried again next tick", extra={"leads": result.failed})
    return {"customers_reviewed": result.reviewed, "customers_moved": result.moved}


def seminars(queue: SendQueue, now: datetime) -> tuple[int, int]:
    """The seminar reminders due, and the free seats offered to their waitlists: what cannot be read or queued now
    is tried again next tick; nothing here stops the step emails and campaigns."""
    events = marketer_config().events
    counts = []
    for done, work in (("seminar reminders queued", lambda: queue_reminders(registrations(), queue, events, now)),
                       ("free seminar seats offered to the waitlists",
                        lambda: offer_free_seats(registrations(), queue, events, now))):
        try:
            count = work()
        except StoreUnavailable:
            logger.exception("seminar work failed: tried again next tick", extra={"work": done})
            count = 0
        if count:
            logger.info(done, extra={"count": count})
        counts.append(count)
    return counts[0], counts[1]


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The schedule's payload carries nothing we need: the tick is about "now".
    store, queue = collaborators()
    now = utc_now()
    removed = remove_expired(lead_store(), now)  # sends nothing: whatever the deliverability pause
    if removed:  # a log field, not a metric: the report counts them per form (issue 20's metric budget)
        logger.info("unconfirmed leads removed", extra={"count": removed})
    # Alerts to salespeople are no marketing email: they go out whatever the deliverability pause; nor are the
    # reminders of a seminar a person registered for.
    background = chase(now) | customers(now)  # neither is marketing email: both go on whatever the pause
    reminders, seats = seminars(queue, now)
    result = tick(store, queue, now, keys.DUE_SHARDS)
    if result.claimed:
        logger.info("step emails dispatched", extra={"count": result.claimed})
    if result.lost_races:
        logger.info("due leads claimed by another tick", extra={"count": result.lost_races})
    if result.paused:
        # Campaigns wait too: started now, every email would be skipped as paused.
        logger.warning("sending is paused by the deliverability guard: nothing dispatched")
        return {"due": 0, "dispatched": 0, "lost_races": 0, "paused": True, "unconfirmed_removed": removed,
                "reminders_queued": reminders, "seats_offered": seats, **background}
    campaign_store, audience_store, audience_queue = campaign_collaborators()
    campaigns = start_due_campaigns(campaign_store, audience_store, audience_queue, config_version, now)
    released = release_held(campaign_store, queue, now)
    if campaigns.started:
        logger.info("campaigns started", extra={"campaigns": campaigns.started})
    if campaigns.decided:
        logger.info("A/B tests decided: the winner goes to the rest", extra={"campaigns": campaigns.decided})
    if released:
        logger.info("held campaign emails released", extra={"count": released})
    if campaigns.failed:
        logger.error("due campaigns could not be started or decided: tried again next tick",
                     extra={"campaigns": campaigns.failed})
    if campaigns.dropped:
        logger.error("scheduled campaigns missing from their config version: cancelled",
                     extra={"campaigns": campaigns.dropped})
    return {"due": result.due, "dispatched": result.claimed, "lost_races": result.lost_races,
            "campaigns_started": campaigns.started, "campaigns_decided": campaigns.decided, "held_released": released,
            "unconfirmed_removed": removed, "reminders_queued": reminders, "seats_offered": seats, **background}
