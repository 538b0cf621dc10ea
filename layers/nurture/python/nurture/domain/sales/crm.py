"""The CRM push: each handoff, verdict, owner change and call as one versioned event (schema in docs/crm.md), for
the deployment's generic signed webhooks and its kintone app (one record per lead, added or updated by the lead's
id through kintone's REST API)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

import msgspec

from nurture.config.sales import KINTONE, CrmEventType, KintoneApp, KintoneValue, SalesConfig
from nurture.domain.clock import iso
from nurture.domain.handoff import HandoffMessage
from nurture.domain.messages import Message
from nurture.domain.sales.alerts import AlertStore, WebhookPoster
from nurture.domain.sales.webhooks import signed_post
from nurture.domain.text import spreadsheet_cell

CRM_SCHEMA_VERSION: Literal[1] = 1
# The activity each event comes from (nurture.table.SALES_ACTIVITIES); a handoff comes from its outbox item.
EVENT_OF_ACTIVITY: dict[str, CrmEventType] = {"sales_feedback": "lead.feedback", "owner_changed": "lead.owner_changed",
                                              "call_outcome": "lead.call_recorded"}
HANDED_OFF: CrmEventType = "lead.handed_off"
KINTONE_RECORDS_PATH = "/k/v1/records.json"  # PUT: add or update records (upsert: true)


class _Message(Message, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Unknown keys are refused: a published contract (its JSON Schema in docs/)."""


class CrmOwner(_Message, frozen=True, kw_only=True):
    id: str
    kind: Literal["person", "queue"]
    name: Annotated[str | None, msgspec.Meta(description="as config/sales.yaml names them when the event was sent")]


class CrmLead(_Message, frozen=True, kw_only=True):
    """The lead as it stood when the event was sent."""

    lead_id: str
    email: str | None
    name: str | None
    company: str | None
    title: str | None
    department: str | None
    phone: str | None
    prefecture: str | None
    rank: Literal["A", "B", "C"] | None
    stage: str
    score: Annotated[float | None, msgspec.Meta(description="fit plus engagement as last scored")]
    owner: CrmOwner | None
    link: Annotated[str, msgspec.Meta(description="GET: the lead in the sales API")]


class Feedback(_Message, frozen=True, kw_only=True):
    outcome: Literal["accepted", "rejected", "won", "lost", "recycle"]
    reason: str | None
    note: str | None


class OwnerChange(_Message, frozen=True, kw_only=True):
    previous: Annotated[str | None, msgspec.Meta(description="the owner before; null if it had none")]
    owner: str
    kind: Literal["person", "queue"]
    by: Annotated[str, msgspec.Meta(description="who decided: a name sales gave, or nurture for an escalation")]
    reason: str


class Call(_Message, frozen=True, kw_only=True):
    task_id: str
    outcome: Literal["reached", "no_answer", "wrong_number", "meeting_set", "not_interested"]
    attempt: int
    by: str
    note: str | None


class CrmEvent(_Message, frozen=True, kw_only=True):
    """One thing that happened to a lead on the sales side. Exactly one of `handoff`, `feedback`,
    `owner_change` and `call` is set, as `type` says."""

    schema_version: Literal[1] = CRM_SCHEMA_VERSION
    event_id: Annotated[str, msgspec.Meta(description="unique per event; the same on every retry of its delivery")]
    type: CrmEventType
    occurred_at: str
    lead: CrmLead
    handoff: Annotated[HandoffMessage | None, msgspec.Meta(description="lead.handed_off: the handoff message")] = None
    feedback: Feedback | None = None
    owner_change: OwnerChange | None = None
    call: Call | None = None


class CrmJob(_Message, frozen=True, kw_only=True):
    """One event to one CRM target: a message of the alerts queue, which the notifier delivers."""

    kind: Literal["crm"] = "crm"
    delivery_id: str  # the event and the target: the same for every retry
    target: str  # a generic webhook's id, or kintone
    event: CrmEvent


def crm_jobs(event: CrmEvent, sales: SalesConfig) -> list[CrmJob]:
    """One job per target of the CRM push, for the event types it publishes."""
    if event.type not in sales.crm.events:
        return []
    targets = crm_targets(sales)
    # ':' is in no salesperson's or channel's id: a delivery id never equals an alert's (<handoff>.<person>.<channel>).
    return [CrmJob.of(delivery_id=f"{event.event_id}:crm:{target}", target=target, event=event) for target in targets]


def crm_targets(sales: SalesConfig) -> list[str]:
    """Where the CRM push delivers: its generic webhooks, then kintone if an app is configured."""
    return [*dict.fromkeys(sales.crm.webhooks), *([KINTONE] if sales.crm.kintone else [])]


def crm_lead(lead_id: str, profile: dict[str, Any], sales: SalesConfig, api_base: str) -> CrmLead:
    return _lead(lead_id, profile, sales, f"{api_base.rstrip('/')}/v1/leads/{lead_id}")


def _lead(lead_id: str, profile: dict[str, Any], sales: SalesConfig, link: str) -> CrmLead:
    owner_id = profile.get("owner")
    person, queue = sales.people.get(str(owner_id)), sales.queues.get(str(owner_id))
    owner = CrmOwner.of(id=str(owner_id), kind=profile.get("owner_kind") or ("person" if person else "queue"),
                     name=person.name if person else queue.name if queue else None) if owner_id else None
    total = profile.get("total")
    return CrmLead.of(lead_id=lead_id, **{name: _text(profile.get(name)) for name in (
        "email", "name", "company", "title", "department", "phone", "prefecture")},
        rank=profile.get("rank"), stage=str(profile.get("stage", "nurturing")),
        score=None if total is None else float(total), owner=owner, link=link)


def handed_off(handoff: HandoffMessage, profile: dict[str, Any], sales: SalesConfig, api_base: str) -> CrmEvent:
    return CrmEvent.of(event_id=handoff.handoff_id, type=HANDED_OFF, occurred_at=handoff.handed_off_at,
                    lead=crm_lead(handoff.lead_id, profile, sales, api_base), handoff=handoff)


def from_activity(activity: dict[str, Any], profile: dict[str, Any], sales: SalesConfig,
                  api_base: str) -> CrmEvent:
    """The event a sales activity (a verdict, an owner change, a call) stands for."""
    kind = EVENT_OF_ACTIVITY[str(activity["type"])]
    lead = crm_lead(str(activity["lead_id"]), profile, sales, api_base)
    details: dict[str, Any] = {}
    if kind == "lead.feedback":
        details["feedback"] = Feedback.of(outcome=activity["outcome"], reason=_text(activity.get("reason")),
                                       note=_text(activity.get("note")))
    elif kind == "lead.owner_changed":
        details["owner_change"] = OwnerChange.of(previous=_text(activity.get("from")), owner=str(activity["to"]),
                                              kind=activity["kind"], by=str(activity["by"]),
                                              reason=str(activity["reason"]))
    else:
        details["call"] = Call.of(task_id=str(activity["task_id"]), outcome=activity["outcome"],
                               attempt=int(activity["attempt"]), by=str(activity["by"]),
                               note=_text(activity.get("note")))
    return CrmEvent.of(event_id=str(activity["event_id"]), type=kind, occurred_at=str(activity["occurred_at"]),
                    lead=lead, **details)


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


# --- kintone ------------------------------------------------------------------------------------------------


# Free text as the lead typed it: a formula-like start is made inert. A phone number may start with + (and is
# left alone when it is one); rank, stage, score and ids are Nurture's own.
FREE_TEXT: frozenset[KintoneValue] = frozenset({"email", "name", "company", "title", "department", "prefecture"})
PHONE = re.compile(r"[0-9+\-() ]+")


def kintone_values(event: CrmEvent) -> dict[KintoneValue, str | None]:
    """What each value a kintone app can map is, for this event (None: not known, the field is left alone)."""
    lead = event.lead
    return {"lead_id": lead.lead_id, "email": lead.email, "name": lead.name, "company": lead.company,
            "title": lead.title, "department": lead.department, "phone": lead.phone, "prefecture": lead.prefecture,
            "rank": lead.rank, "stage": lead.stage, "score": None if lead.score is None else f"{lead.score:g}",
            "owner": lead.owner.id if lead.owner else None, "owner_name": lead.owner.name if lead.owner else None,
            "last_event": event.type, "last_event_at": event.occurred_at, "link": lead.link}


def kintone_request(event: CrmEvent, app: KintoneApp) -> dict[str, Any]:
    """The body of kintone's PUT /k/v1/records.json in upsert mode: the lead's record found by its id in the key
    field, added if it is not there. What a lead typed is made inert for the CSV kintone exports (a formula-like
    start gets an apostrophe): kintone itself shows record values as text."""
    values = kintone_values(event)
    record = {code: {"value": _inert(name, str(values[name]))} for name, code in app.fields.items()
              if values[name] is not None}
    return {"app": app.app, "upsert": True,
            "records": [{"updateKey": {"field": app.key_field, "value": event.lead.lead_id}, "record": record}]}


def _inert(name: KintoneValue, value: str) -> str:
    if name in FREE_TEXT or (name == "phone" and not PHONE.fullmatch(value)):
        return str(spreadsheet_cell(value))
    return value


def deliver_crm(job: CrmJob, sales: SalesConfig, store: CrmStore, poster: WebhookPoster, now: datetime) -> str:
    """At least once, as alert webhooks are: posted (or put to kintone) until it answers 2xx, then marked; a generic
    receiver drops a repeat by its delivery id. kintone gets the lead as it stands at delivery, so a retried older
    event cannot put back an old stage or owner."""
    lead_id = job.event.lead.lead_id
    if job.target not in crm_targets(sales):
        return "skipped_unknown_target"  # no longer in sales.yaml
    profile = store.lead_profile(lead_id)
    if profile is None:
        return "skipped_erased"  # nothing of an erased lead goes out
    if store.alert_delivered(lead_id, job.delivery_id):
        return "duplicate"
    target = poster.target(job.target)
    if job.target == KINTONE and sales.crm.kintone is not None:
        now_standing = job.event.replaced(lead=_lead(lead_id, profile, sales, job.event.lead.link))
        body = json.dumps(kintone_request(now_standing, sales.crm.kintone), ensure_ascii=False).encode("utf-8")
        # kintone's API token authentication: the token is the parameter's secret (docs/crm.md).
        poster.post(f"{target.url.rstrip('/')}{KINTONE_RECORDS_PATH}", body,
                    {"X-Cybozu-API-Token": target.signing_secret, "Content-Type": "application/json"}, method="PUT")
    else:
        body, headers = signed_post(target, job.event.as_data(), job.delivery_id, job.event.type,
                                    int(now.timestamp()))
        poster.post(target.url, body, headers)
    store.mark_alert_delivered(lead_id, job.delivery_id, iso(now))
    return "delivered"


class CrmStore(AlertStore, Protocol):
    def lead_profile(self, lead_id: str) -> dict[str, Any] | None: ...
