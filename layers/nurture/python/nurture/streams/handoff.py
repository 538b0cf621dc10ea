"""The handoff publisher's stream consumer: each new HANDOFF# outbox item becomes one FIFO message for sales
tooling, one alert job per channel of the person to tell and one job per target of the CRM push; each new sales
activity (a verdict, an owner change, a call) one job per target of the CRM push."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from nurture import keys
from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.handoff_queue import HandoffQueue
from nurture.domain.accounts.standing import account_view
from nurture.domain.clock import iso
from nurture.domain.handoff import handoff_message
from nurture.domain.leads import LeadRecord
from nurture.domain.sales.alerts import AlertJob, alert_jobs
from nurture.domain.sales.crm import EVENT_OF_ACTIVITY, CrmJob, crm_jobs, crm_targets, from_activity, handed_off
from nurture.observability import logger
from nurture.settings import marketer_config
from nurture.streams.records import StreamRecord, stream_partial_response, stream_records


class HandoffStore(Protocol):
    def lead_record(self, lead_id: str, activity_limit: int = 50, ledger_limit: int = 1000) -> LeadRecord | None: ...

    def profile(self, lead_id: str, projection: str | None = None) -> dict[str, Any] | None: ...

    def handoff_published(self, lead_id: str, handoff_id: str) -> bool: ...

    def mark_handoff_published(self, lead_id: str, handoff_id: str, at: str) -> None: ...


class AccountReader(Protocol):
    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None: ...


class NotSalesWork(ValueError):
    pass


def handle_batch(event: dict[str, Any], store: HandoffStore, accounts: AccountReader,
                 queue: HandoffQueue, alerts: AlertQueue, api_base: str, now: datetime) -> dict[str, Any]:
    config = marketer_config()

    records = stream_records(event)

    def consume(record: StreamRecord) -> None:
        image = record.new_image
        if image and "lead_id" in image and str(image.get("type")) in EVENT_OF_ACTIVITY:
            return push(image)
        if not image or "handoff_id" not in image or "lead_id" not in image:
            raise NotSalesWork("neither a HANDOFF# outbox item nor a sales activity")
        return publish(image)

    def push(activity: dict[str, Any]) -> None:
        if not crm_targets(config.sales) or EVENT_OF_ACTIVITY[activity["type"]] not in config.sales.crm.events:
            return  # nobody to push this to: nothing to read or send
        lead_id = str(activity["lead_id"])
        profile = store.profile(lead_id)
        if profile is None:
            return  # erased since: nothing of it goes out
        jobs = crm_jobs(from_activity(activity, profile, config.sales, api_base), config.sales)
        alerts.send_jobs(jobs)
        logger.info("sales activity pushed", extra={"lead_id": lead_id, "type": activity["type"], "jobs": len(jobs)})

    def account_of_lead(profile: dict[str, Any]) -> dict[str, Any] | None:
        """The lead's account with its people, for sales to see the buying group (one query and one BatchGetItem)."""
        if not profile.get("account"):
            return None
        account_id = keys.account_id(str(profile["account"]))
        found = accounts.account(account_id)
        return account_view(account_id, found[1], found[0], config.scoring, now) if found is not None else None

    def publish(image: dict[str, Any]) -> None:
        lead_id, handoff_id = str(image["lead_id"]), str(image["handoff_id"])
        if store.handoff_published(lead_id, handoff_id):
            # A stream retry after SQS's five-minute deduplication window: sales have it already.
            return
        lead = store.lead_record(lead_id, activity_limit=20)
        if lead is None:
            logger.info("handoff of an erased lead dropped", extra={"lead_id": lead_id})
            return
        message = handoff_message(image, lead, config.scoring, now, api_base, config.sales,
                                  account_of_lead(lead.profile))
        # A failure here fails this record only; the stream retries it, and FIFO dedup by
        # handoff id keeps a retried send from reaching sales twice.
        queue.send(message.to_json(), message.handoff_id, lead_id)
        # Before the mark, so a retry queues the alerts again rather than never; the notifier sends each once.
        jobs: list[AlertJob | CrmJob] = [
            *alert_jobs(message, config.sales),
            *crm_jobs(handed_off(message, lead.profile, config.sales, api_base), config.sales)]
        alerts.send_jobs(jobs)
        store.mark_handoff_published(lead_id, handoff_id, iso(now))
        logger.info("lead handed off", extra={"lead_id": lead_id, "handoff_id": message.handoff_id,
                                              "alerts": len(jobs)})

    return stream_partial_response(records, consume)
