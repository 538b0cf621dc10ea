"""The sales API: look leads up, list them by rank or owner, give them another owner, send feedback, list call
tasks and record their calls, record offline activity and purchases, set subscriptions, erase. IAM-authorized in
AWS."""

import json
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

from nurture import keys
from nurture.adapters.dynamo import InvalidCursor
from nurture.config.sales import OWNER_ID
from nurture.domain.accounts.merging import account_shown, merge_accounts, split_account
from nurture.domain.clock import utc_now
from nurture.domain.customers.purchases import MAX_ORDER_ID, MAX_PRODUCT, Purchase, purchase_of, record_purchases
from nurture.domain.errors import AccountNotFound, FieldProblem, LeadNotFound, ValidationFailed
from nurture.domain.leads import Feedback, Outcome, Stage, erase_lead, lead_view, record_feedback
from nurture.domain.preferences.centre import change_for_lead
from nurture.domain.sales.offline import CLIENT_ID, MAX_BY, MAX_NOTE, OfflineEntry, record_offline
from nurture.domain.sales.owners import Reassignment, reassign
from nurture.domain.sales.task_views import listed_tasks
from nurture.domain.sales.tasks import TASK_ID, CallOutcome, CallReport, TaskStatus, record_call_outcome
from nurture.domain.text import clean_text
from nurture.http.paging import LISTED, Cursor, LeadRef, PageSize, bad_cursor, cursor_key, next_cursor
from nurture.http.problems import documented, problem_doc
from nurture.http.requests import request_context
from nurture.http.router import Input, Parameters, Response, Router
from nurture.http.services import account_store, lead_store, preference_settings, purchase_store
from nurture.jsonable import json_default
from nurture.observability import logger
from nurture.settings import marketer_config

OwnerId = Annotated[str, msgspec.Meta(pattern=OWNER_ID, description="a salesperson's or queue's id")]
Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE)]


AccountId = Annotated[str, msgspec.Meta(pattern=keys.ACCOUNT_ID_PATTERN,
                                        description="The account's id, as a lead shows it")]


class AccountPath(Parameters):
    account_id: AccountId


class MergeBody(Input):
    into: AccountId


class TaskRef(Parameters):
    task_id: Annotated[str, msgspec.Meta(pattern=TASK_ID, description="The task's id")]


class LeadList(Parameters):
    rank: Annotated[Literal["A", "B", "C"], msgspec.Meta(description="A when no owner is given")] | None = None
    owner: OwnerId | None = None
    stage: Annotated[Stage, msgspec.Meta(description="with owner: only leads in this stage")] | None = None
    limit: PageSize = 50
    cursor: Cursor | None = None


class AccountList(Parameters):
    rank: Annotated[Literal["A", "B", "C"], msgspec.Meta(description="the accounts of this rank")] = "A"
    limit: PageSize = 50
    cursor: Cursor | None = None


class TaskList(Parameters):
    owner: OwnerId
    status: Annotated[TaskStatus, msgspec.Meta(description="open (soonest due first) or done (latest first)")] = \
        "open"
    limit: PageSize = 50
    cursor: Cursor | None = None


def _written(field: str, text: str) -> str:
    """`text` as stored for people to read later: nothing invisible; something must be left."""
    cleaned = clean_text(text)
    if not cleaned:
        raise ValidationFailed("The body is invalid.", [FieldProblem(field, "invalid", "must say something visible")])
    return cleaned


def _note(text: str | None) -> str | None:
    return None if text is None else clean_text(text, multiline=True)  # a note keeps its lines


class SubscriptionsBody(Input):
    """The types to set, as the person asked sales: true to receive, false to stop; the others stay."""

    receive: Annotated[dict[Annotated[str, msgspec.Meta(max_length=32)], bool],
                       msgspec.Meta(min_length=1, max_length=50)]


class OwnerBody(Input):
    """Who the lead goes to, who decided and why: all three are recorded on the lead's timeline."""

    owner: Annotated[str, msgspec.Meta(pattern=OWNER_ID, description="a salesperson or queue of config/sales.yaml")]
    by: Annotated[str, msgspec.Meta(max_length=100, description="who decided")]
    reason: Annotated[str, msgspec.Meta(max_length=500)]

    def __post_init__(self) -> None:
        self.by, self.reason = _written("by", self.by), _written("reason", self.reason)


class FeedbackBody(Input):
    outcome: Outcome
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    note: Note | None = None

    def __post_init__(self) -> None:
        self.reason = None if self.reason is None else clean_text(self.reason)
        self.note = _note(self.note)


class CallOutcomeBody(Input):
    """What came of a call on a task: recorded on the lead's timeline and scored."""

    outcome: CallOutcome
    by: Annotated[str, msgspec.Meta(max_length=100, description="who called")]
    note: Note | None = None
    attempt: Annotated[int, msgspec.Meta(ge=1, le=10, description="the call this reports (1: the first); a retried "
                                                                   "request naming it changes nothing")] | None = None

    def __post_init__(self) -> None:
        self.by, self.note = _written("by", self.by), _note(self.note)


class ActivityBody(Input):
    """Something that happened outside the web (a meeting, a booth visit): recorded on the lead's timeline and
    scored by scoring.yaml's rules."""

    id: Annotated[str, msgspec.Meta(pattern=CLIENT_ID, description="your id of the activity: a retried request "
                                                                   "with it changes nothing")]
    type: Annotated[str, msgspec.Meta(max_length=40, description="one of scoring.yaml's offline_activities")]
    by: Annotated[str, msgspec.Meta(max_length=MAX_BY, description="who met the person")]
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True, description="when it happened, with its offset; "
                                                                       "default: now")] | None = None
    note: Note | None = None

    def __post_init__(self) -> None:
        self.by, self.note = _written("by", self.by), _note(self.note)


class PurchaseItem(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One order: its customer by email address or lead id."""

    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ORDER_ID,
                                          description="your order id: an order already recorded changes nothing")]
    date: Annotated[date, msgspec.Meta(description="the purchase's day (YYYY-MM-DD), not after today")]
    amount: Annotated[int, msgspec.Meta(ge=0, le=10**12, description="yen")]
    product: Annotated[str, msgspec.Meta(max_length=MAX_PRODUCT)] = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    lead_id: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$")] | None = None


class PurchasesBody(Input):
    """Orders from a shop or an ERP, up to 100 a request."""

    purchases: Annotated[list[PurchaseItem], msgspec.Meta(min_length=1, max_length=100)]


def _purchases(items: list[PurchaseItem], today: date) -> list[Purchase]:
    """Every item checked before any is written: one bad item refuses the request whole (422), naming them all."""
    purchases, problems = [], []
    for index, item in enumerate(items):
        wrong: list[tuple[str, str]] = []
        purchase = purchase_of(index + 1, item.email, item.lead_id, item.order_id, item.date, item.amount,
                               item.product, today, wrong)
        problems += [FieldProblem(f"purchases[{index}].{name}", "invalid", message) for name, message in wrong]
        if purchase is not None:
            purchases.append(purchase)
    if problems:
        raise ValidationFailed("The purchases cannot be recorded.", problems)
    return purchases


def register_sales_routes(app: Router) -> None:
    @app.get("/v1/leads/<lead_id>", summary="A lead with scores, breakdown and activity", tags=["sales"],
             responses={200: documented("The lead", "application/json"), 404: problem_doc("No such lead"),
                        422: problem_doc("Not a lead id")}, parameters=LeadRef)
    def get_lead(lead_id: str) -> Response:
        record = lead_store().lead_record(lead_id)
        if record is None:
            raise LeadNotFound(f"There is no lead '{lead_id}'.")
        return Response(200, "application/json",
                        json.dumps(lead_view(record, marketer_config().scoring, utc_now()), ensure_ascii=False,
                                   default=json_default))

    @app.get("/v1/leads", summary="Leads of a rank, highest score first; or of an owner, newest first",
             tags=["sales"], responses={200: documented("A page of leads", "application/json"),
                                        422: problem_doc("Bad query")}, parameters=LeadList)
    def list_leads(rank: str | None, owner: str | None, stage: Stage | None, limit: int, cursor: str | None
                   ) -> Response:
        store = lead_store()
        try:
            if owner is None:
                if stage is not None:
                    raise ValidationFailed("A stage lists one owner's leads.",
                                           [FieldProblem("stage", "needs_owner", "is given only with owner")])
                items, next_key = store.leads_by_rank(rank or "A", limit, cursor_key(cursor), LISTED)
            elif rank is not None:
                raise ValidationFailed("List by rank or by owner, not both.",
                                       [FieldProblem("rank", "with_owner", "is not given with owner")])
            else:
                items, next_key = store.leads_by_owner(owner, stage, limit, cursor_key(cursor), LISTED)
        except InvalidCursor as error:
            raise bad_cursor() from error
        leads = [{name: i.get(name) for name in LISTED} for i in items]
        return Response(200, "application/json", json.dumps({"leads": leads, "next_cursor": next_cursor(next_key)},
                                                             ensure_ascii=False, default=json_default))

    @app.post("/v1/leads/<lead_id>/owner", summary="Give a lead to another salesperson or queue", tags=["sales"],
              responses={200: documented("The owner, before and after", "application/json"),
                         404: problem_doc("No such lead"), 422: problem_doc("Unknown owner or invalid body")},
              parameters=LeadRef, body=OwnerBody)
    def reassign_owner(lead_id: str, body: OwnerBody) -> Response:
        config = marketer_config()
        result = reassign(lead_id, Reassignment(body.owner, body.by, body.reason, app.current_request.caller_arn),
                          lead_store(), config.sales, utc_now(), config.api.event_retention_days)
        logger.info("owner changed by sales", extra={"lead_id": lead_id, "owner": body.owner,
                                                     "changed": result["changed"]})
        return Response(200, "application/json", json.dumps(result))

    @app.post("/v1/leads/<lead_id>/feedback", summary="Sales' verdict on a lead", tags=["sales"],
              responses={200: documented("Applied", "application/json"), 404: problem_doc("No such lead"),
                         422: problem_doc("Invalid feedback")}, parameters=LeadRef, body=FeedbackBody)
    def feedback(lead_id: str, body: FeedbackBody) -> Response:
        config = marketer_config()
        result = record_feedback(lead_id, Feedback(body.outcome, body.reason, body.note), lead_store(), config.scoring,
                                 utc_now(), config.api.event_retention_days)
        logger.info("sales feedback", extra={"lead_id": lead_id, "outcome": body.outcome})
        return Response(200, "application/json", json.dumps(result))

    @app.get("/v1/tasks", summary="A salesperson's or queue's call tasks: open ones soonest due first",
             tags=["sales"], responses={200: documented("A page of tasks", "application/json"),
                                        422: problem_doc("Bad query")}, parameters=TaskList)
    def list_tasks(owner: str, status: TaskStatus, limit: int, cursor: str | None) -> Response:
        try:
            found, next_key = lead_store().tasks_by_owner(owner, status, limit, cursor_key(cursor))
        except InvalidCursor as error:
            raise bad_cursor() from error
        tasks = listed_tasks(found, utc_now())
        return Response(200, "application/json", json.dumps({"tasks": tasks, "next_cursor": next_cursor(next_key)},
                                                            ensure_ascii=False, default=json_default))

    @app.post("/v1/tasks/<task_id>/outcome", summary="What came of a call on a task", tags=["sales"],
              responses={200: documented("The task after the call", "application/json"),
                         404: problem_doc("No such task"), 409: problem_doc("The task was closed otherwise"),
                         422: problem_doc("Invalid outcome")}, parameters=TaskRef, body=CallOutcomeBody)
    def call_outcome(task_id: str, body: CallOutcomeBody) -> Response:
        config = marketer_config()
        result = record_call_outcome(task_id, CallReport(body.outcome, body.by, body.note, body.attempt,
                                                         app.current_request.caller_arn),
                                     lead_store(), config.sales, config.scoring, utc_now(),
                                     config.api.event_retention_days)
        logger.info("call outcome", extra={"task_id": task_id, "outcome": body.outcome, "changed": result["changed"]})
        return Response(200, "application/json", json.dumps(result, default=json_default))

    @app.post("/v1/leads/<lead_id>/activities", summary="Record what happened outside the web: a meeting, a visit, "
              "a trade-show booth visit", tags=["sales"],
              responses={201: documented("Recorded", "application/json"),
                         200: documented("Recorded before under this id: nothing changed", "application/json"),
                         404: problem_doc("No such lead"), 422: problem_doc("Unknown type or invalid body")},
              parameters=LeadRef, body=ActivityBody)
    def record_activity(lead_id: str, body: ActivityBody) -> Response:
        config = marketer_config()
        entry = OfflineEntry(client_id=body.id, kind=body.type, by=body.by, occurred_at=body.occurred_at,
                             note=body.note, source="api", caller=app.current_request.caller_arn)
        result = record_offline(lead_id, entry, lead_store(), config.scoring, utc_now(),
                                config.api.event_retention_days)
        logger.info("offline activity", extra={"lead_id": lead_id, "type": body.type, "recorded": result["recorded"]})
        return Response(201 if result["recorded"] else 200, "application/json", json.dumps(result))

    @app.get("/v1/accounts", summary="Companies of a rank, highest score first, as their people's last activity "
             "left them", tags=["sales"], responses={200: documented("A page of accounts", "application/json"),
                                                     422: problem_doc("Bad query")}, parameters=AccountList)
    def list_accounts(rank: str, limit: int, cursor: str | None) -> Response:
        try:
            items, next_key = account_store().accounts_by_rank(rank, limit, cursor_key(cursor))
        except InvalidCursor as error:
            raise bad_cursor() from error
        return Response(200, "application/json", json.dumps({"accounts": items, "next_cursor": next_cursor(
            next_key)}, ensure_ascii=False, default=json_default))

    @app.get("/v1/accounts/<account_id>", summary="A company: its score, buying group and people (of a merged "
             "account: the one it was merged into, naming it in merged_from)", tags=["sales"],
             responses={200: documented("The account", "application/json"), 404: problem_doc("No such account")},
             parameters=AccountPath)
    def get_account(account_id: str) -> Response:
        view = account_shown(account_id, account_store(), marketer_config().scoring, utc_now())
        if view is None:
            raise AccountNotFound(f"There is no account '{account_id}'.")
        return Response(200, "application/json", json.dumps(view, ensure_ascii=False, default=json_default))

    @app.post("/v1/accounts/<account_id>/merge", summary="Merge a company's account into another: its people move "
              "there, and its later people join there", tags=["sales"],
              responses={200: documented("Merged; how many people moved, whether more are left for the next call",
                                         "application/json"),
                         404: problem_doc("No such account (with people in it)"),
                         409: problem_doc("Into itself, into a merged account, or merged elsewhere already"),
                         422: problem_doc("Invalid body")}, parameters=AccountPath, body=MergeBody)
    def merge_account(account_id: str, body: MergeBody) -> Response:
        result = merge_accounts(account_id, body.into, account_store(), utc_now())
        logger.info("accounts merged", extra=result)
        return Response(200, "application/json", json.dumps(result))

    @app.post("/v1/accounts/<account_id>/split", summary="Undo a merge: the people who came from the account move "
              "back to it", tags=["sales"],
              responses={200: documented("Split; how many people moved back, whether more are left",
                                         "application/json"),
                         409: problem_doc("The account is not merged into another")}, parameters=AccountPath)
    def split_merged_account(account_id: str) -> Response:
        result = split_account(account_id, account_store())
        logger.info("account split", extra=result)
        return Response(200, "application/json", json.dumps(result))

    @app.post("/v1/purchases", summary="Record customers' purchases: each once per order id", tags=["sales"],
              responses={200: documented("Recorded; orders recorded before and customers who are no lead listed",
                                         "application/json"),
                         422: problem_doc("An invalid purchase: none of the request is recorded"),
                         503: documented("Some purchases could not be stored now (their order ids listed as failed): "
                                         "send the request again; those recorded change nothing",
                                         "application/json")},
              body=PurchasesBody)
    def purchases(body: PurchasesBody) -> Response:
        config, now = marketer_config(), utc_now()
        zone = config.scoring.timezone
        bought = _purchases(body.purchases, now.astimezone(ZoneInfo(zone)).date())
        outcome = record_purchases(bought, purchase_store(), now, zone, config.api.event_retention_days, "api")
        order = {purchase.row: purchase.order_id for purchase in bought}
        result = {"recorded": outcome.recorded, "unchanged": outcome.unchanged,
                  "unknown_customers": [order[row] for row in outcome.unknown_customers],
                  # What went wrong inside is logged by the store; the caller needs only to send them again.
                  "failed": [order[failed.row] for failed in outcome.failed]}
        logger.info("purchases", extra={"recorded": outcome.recorded, "unchanged": outcome.unchanged,
                                        "unknown_customers": len(outcome.unknown_customers),
                                        "failed": len(outcome.failed)})
        return Response(503 if outcome.failed else 200, "application/json", json.dumps(result, ensure_ascii=False))

    @app.post("/v1/leads/<lead_id>/subscriptions", summary="Set a lead's subscription types, as the person asked",
              tags=["sales"], responses={200: documented("Applied", "application/json"),
                                         404: problem_doc("No such lead"),
                                         409: problem_doc("The lead left every email"),
                                         422: problem_doc("Unknown subscription types")},
              parameters=LeadRef, body=SubscriptionsBody)
    def subscriptions(lead_id: str, body: SubscriptionsBody) -> Response:
        changed = change_for_lead(lead_id, body.receive, lead_store(), request_context(app.current_request),
                                  preference_settings())
        logger.info("subscriptions set by sales", extra={"lead_id": lead_id, "changed": changed})
        return Response(200, "application/json", json.dumps({"changed": changed}))

    @app.delete("/v1/leads/<lead_id>", summary="Erase a lead (only a hashed suppression entry stays)",
                tags=["sales"], responses={204: documented("Erased"), 404: problem_doc("No such lead"),
                                           422: problem_doc("Not a lead id")}, parameters=LeadRef)
    def erase(lead_id: str) -> Response:
        erase_lead(lead_id, lead_store())
        logger.info("lead erased", extra={"lead_id": lead_id})
        return Response(204, None, "")

