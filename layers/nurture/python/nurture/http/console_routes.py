"""/v1/console/...: what the console's pages read, for a signed-in user of the groups each route allows."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import msgspec

from nurture.adapters.dynamo import InvalidCursor
from nurture.config.sales import OWNER_ID
from nurture.domain.clock import utc_now
from nurture.domain.console.access import RIGHTS, ConsoleUser, console_user, require, visible_owner
from nurture.domain.console.audit import Change
from nurture.domain.console.views import console_lead
from nurture.domain.errors import FieldProblem, Forbidden, LeadNotFound, NotSignedIn, ValidationFailed
from nurture.domain.leads import Stage, erase_lead
from nurture.domain.sales.owners import Reassignment, reassign
from nurture.domain.text import InvalidEmail, email_key, normalize_email
from nurture.http.paging import LISTED, Cursor, LeadRef, PageSize, bad_cursor, cursor_key, next_cursor
from nurture.http.problems import PROBLEM_JSON, documented, problem_doc
from nurture.http.requests import ApiRequest
from nurture.http.router import Input, Parameters, Response, Router
from nurture.http.services import lead_store
from nurture.jsonable import json_default
from nurture.observability import logger
from nurture.settings import marketer_config

# A request without a valid token is answered by the JWT authorizer itself ({"message": "Unauthorized"}).
SIGNED_IN = {401: {"description": "Not signed in", "content": {"application/json": {"schema": {}},
                                                               PROBLEM_JSON: {"schema": {}}}},
             403: problem_doc("Your groups do not allow this")}
CONSOLE = {"tags": ["console"], "security": "console"}


class LeadList(Parameters):
    rank: Annotated[Literal["A", "B", "C"], msgspec.Meta(description="default A; a salesperson sees their own "
                                                                     "leads, newest first")] = "A"
    email: Annotated[str, msgspec.Meta(max_length=254, description="the lead with this address (any case), "
                                                                   "instead of a rank's")] | None = None
    owner: Annotated[str, msgspec.Meta(pattern=OWNER_ID, description="a salesperson's or queue's leads, newest "
                                                                     "first, instead of a rank's")] | None = None
    stage: Annotated[Stage, msgspec.Meta(description="with an owner (a salesperson: their own), that stage's "
                                                     "leads only")] | None = None
    limit: PageSize = 50
    cursor: Cursor | None = None


class NewOwner(Input):
    owner: Annotated[str, msgspec.Meta(pattern=OWNER_ID, description="a salesperson or queue of config/sales.yaml")]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, description="why, on the lead's timeline")]


def signed_in(request: ApiRequest) -> ConsoleUser:
    """The user the JWT authorizer let through; a route reached without it (a misrouted call) is refused."""
    if request.jwt_claims is None:
        raise NotSignedIn("The console answers the HTTP API's signed-in requests only.")
    return console_user(request.jwt_claims)


def answer(status: int, body: object) -> Response:
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False, default=json_default),
                    {"Cache-Control": "no-store"})


def register_console_routes(app: Router) -> None:
    @app.get("/v1/console/me", summary="Who is signed in, their groups and what they may do", **CONSOLE,
             responses={200: documented("The user", "application/json"), **SIGNED_IN})
    def me() -> Response:
        user = signed_in(app.current_request)
        sales = marketer_config().sales
        # Whose lists a user may open: every salesperson and queue, for whoever sees every lead.
        names = {**{i: person.name for i, person in sales.people.items()},
                 **{i: queue.name for i, queue in sales.queues.items()}}
        owners = [{"id": owner_id, "name": name} for owner_id, name in names.items()] \
            if user.may("leads:read_all") else []
        return answer(200, {"subject": user.subject, "email": user.email, "groups": sorted(user.groups),
                            "language": user.language, "owners": owners,
                            "may": sorted(right for right in RIGHTS if user.may(right))})

    @app.get("/v1/console/leads", summary="Leads of a rank, highest score first; or an owner's, newest first, of a "
             "stage or every stage; or the lead with an address (a salesperson: their own)",
             parameters=LeadList, **CONSOLE,
             responses={200: documented("A page of leads", "application/json"), 422: problem_doc("Bad query"),
                        **SIGNED_IN})
    def leads(rank: str, email: str | None, owner: str | None, stage: str | None, limit: int,
              cursor: str | None) -> Response:
        mine = visible_owner(signed_in(app.current_request), marketer_config().sales)
        if mine is not None and owner not in (None, mine):
            raise Forbidden("A salesperson sees their own leads only.")
        owner = mine or owner
        if stage is not None and owner is None:
            raise ValidationFailed("A stage is listed for one owner.", [
                FieldProblem("stage", "invalid", "needs an owner: the rank lists hold every stage")])
        store = lead_store()
        if email is not None:
            return answer(200, {"leads": _by_email(email, mine), "next_cursor": None})
        try:
            if owner is None:
                items, next_key = store.leads_by_rank(rank, limit, cursor_key(cursor), LISTED)
            else:
                items, next_key = store.leads_by_owner(owner, stage, limit, cursor_key(cursor), LISTED)
        except InvalidCursor as error:
            raise bad_cursor() from error
        return answer(200, {"leads": [{name: item.get(name) for name in LISTED} for item in items],
                           "next_cursor": next_cursor(next_key)})

    @app.get("/v1/console/leads/<lead_id>", summary="A lead: profile, timeline, score over time and its story",
             parameters=LeadRef, **CONSOLE,
             responses={200: documented("The lead", "application/json"), 404: problem_doc("No such lead"),
                        422: problem_doc("Not a lead id"), **SIGNED_IN})
    def lead(lead_id: str) -> Response:
        owner = visible_owner(signed_in(app.current_request), marketer_config().sales)
        record = lead_store().lead_record(lead_id)
        # A salesperson asking for another's lead learns no more than of a lead that is not there.
        if record is None or (owner is not None and record.profile.get("owner") != owner):
            raise LeadNotFound(f"There is no lead '{lead_id}'.")
        return answer(200, console_lead(record, marketer_config().scoring, utc_now()))


    @app.post("/v1/console/leads/<lead_id>/owner", summary="Give a lead to another salesperson or queue (admins, "
              "marketers), as the sales API does, recorded with who and why", parameters=LeadRef, body=NewOwner,
              **CONSOLE, responses={200: documented("The owner, before and after", "application/json"),
                                    404: problem_doc("No such lead"), 422: problem_doc("Unknown owner"),
                                    **SIGNED_IN})
    def reassign_owner(lead_id: str, body: NewOwner) -> Response:
        user = signed_in(app.current_request)
        require(user, "leads:reassign")
        config, now = marketer_config(), utc_now()
        record = Change(user.recorded_as, "lead.reassign", lead_id, now, {"owner": body.owner})
        result = reassign(lead_id, Reassignment(body.owner, user.recorded_as, body.reason, recorded=record),
                          lead_store(), config.sales, now, config.api.event_retention_days)
        logger.info("owner changed in the console", extra={"lead_id": lead_id, "owner": body.owner,
                                                           "changed": result["changed"]})
        return answer(200, result)

    @app.delete("/v1/console/leads/<lead_id>", summary="Erase a lead (admins): only a hashed suppression entry stays",
                parameters=LeadRef, **CONSOLE,
                responses={204: documented("Erased"), 404: problem_doc("No such lead"),
                           422: problem_doc("Not a lead id"), **SIGNED_IN})
    def erase(lead_id: str) -> Response:
        user = signed_in(app.current_request)
        require(user, "leads:erase")
        erase_lead(lead_id, lead_store(), Change(user.recorded_as, "lead.erase", lead_id, utc_now()))
        logger.info("lead erased", extra={"lead_id": lead_id})
        return Response(204, None, "")


def _by_email(email: str, owner: str | None) -> list[dict[str, object]]:
    """The lead with this address, as a one-row list, if the user may see it; else an empty list."""
    try:
        lead_id = lead_store().find_lead_id(email_key(normalize_email(email)))
    except InvalidEmail as error:
        raise ValidationFailed("The email is not an address.",
                               [FieldProblem("email", "invalid", "is not an email address")]) from error
    profile = lead_store().profile(lead_id) if lead_id else None
    if profile is None or (owner is not None and profile.get("owner") != owner):
        return []
    return [{name: profile.get(name) for name in LISTED} | {"lead_id": lead_id}]
