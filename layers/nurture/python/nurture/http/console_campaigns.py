"""The console's Emails pages: /v1/console/campaigns (the campaigns of the active config with their state and
results; schedule and cancel, each recorded with who and when), /v1/console/sequences (each sequence's steps with
their results) and /v1/console/calendar (the year's touchpoints per rank and segment, silent months marked)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

from nurture.config.campaigns import Campaign
from nurture.domain.campaigns.lifecycle import CampaignRefused, CampaignState, cancel, schedule
from nurture.domain.campaigns.overview import campaign_rows
from nurture.domain.clock import utc_now
from nurture.domain.console.access import require
from nurture.domain.console.audit import Action, Change
from nurture.domain.errors import CampaignNotFound, ChangeRefused, FieldProblem, ValidationFailed
from nurture.http.console_routes import CONSOLE, SIGNED_IN, answer, signed_in
from nurture.http.problems import documented, problem_doc
from nurture.http.requests import ApiRequest
from nurture.http.router import Input, Parameters, Response, Router
from nurture.http.services import audience_store, audit_log, campaign_store, send_queue
from nurture.settings import active_config, marketer_config


class CampaignRef(Parameters):
    campaign_id: Annotated[str, msgspec.Meta(max_length=64, description="The campaign's id in campaigns.yaml")]


class TestBody(Input):
    to: Annotated[str, msgspec.Meta(max_length=254, description="one of the campaign's seed addresses")]
    language: Annotated[Literal["ja", "en"], msgspec.Meta(description="the sample lead's language")] = "ja"


class CalendarYear(Parameters):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100, description="default: this year in the marketer's time "
                                                                       "zone")] | None = None


NOT_FOUND = {404: problem_doc("No such campaign in the active config"), 422: problem_doc("Not a campaign id")}
CHANGED = {409: problem_doc("The campaign is not in a state this applies to (or changed meanwhile)")}


def _campaign(campaign_id: str) -> Campaign:
    campaign = marketer_config().campaigns.campaigns.get(campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"There is no campaign '{campaign_id}' in the active config.")
    return campaign


def register_campaign_routes(app: Router) -> None:
    @app.get("/v1/console/campaigns", summary="Every campaign of the active config, when it goes out, its state",
             **CONSOLE, responses={200: documented("The campaigns", "application/json"), **SIGNED_IN})
    def campaigns() -> Response:
        require(signed_in(app.current_request), "campaigns:read")
        config = marketer_config()
        states = campaign_store().states(list(config.campaigns.campaigns))  # one read for them all
        return answer(200, {"campaigns": campaign_rows(config, states.get, audience_store().scan_done)})

    @app.get("/v1/console/campaigns/<campaign_id>", summary="A campaign: its state and what was sent and done",
             parameters=CampaignRef, **CONSOLE,
             responses={200: documented("The campaign", "application/json"), **NOT_FOUND, **SIGNED_IN})
    def campaign(campaign_id: str) -> Response:
        require(signed_in(app.current_request), "campaigns:read")
        seeds = _campaign(campaign_id).seeds
        (row,) = [row for row in campaign_rows(marketer_config(), campaign_store().state, audience_store().scan_done)
                  if row["id"] == campaign_id]
        state = campaign_store().state(campaign_id)
        return answer(200, {**row, "seeds": list(seeds), "state": state.to_item() if state else None,
                            "counts": campaign_store().counts(campaign_id)})

    @app.get("/v1/console/campaigns/<campaign_id>/preview", summary="The campaign rendered for a sample lead: each "
             "language and A/B variant's subject and text", parameters=CampaignRef, **CONSOLE,
             responses={200: documented("The previews", "application/json"), **NOT_FOUND, **SIGNED_IN})
    def preview(campaign_id: str) -> Response:
        from nurture.domain.campaigns.preview import previews  # the template engine: for this route and the test's

        require(signed_in(app.current_request), "campaigns:read")
        return answer(200, {"previews": previews(marketer_config(), _campaign(campaign_id))})

    @app.post("/v1/console/campaigns/<campaign_id>/test", summary="Send the campaign's test to one of its seed "
              "addresses, as a sample lead would get it (each A/B variant)", parameters=CampaignRef, body=TestBody,
              **CONSOLE, responses={202: documented("Queued for the sender", "application/json"), **NOT_FOUND,
                                    422: problem_doc("Not one of the campaign's seeds"), **SIGNED_IN})
    def send_test(campaign_id: str, body: TestBody) -> Response:
        from nurture.domain.campaigns.preview import CampaignTestMessage, seed_address

        user = signed_in(app.current_request)
        require(user, "campaigns:write")
        campaign, active, now = _campaign(campaign_id), active_config(), utc_now()
        try:
            seed = seed_address(campaign_id, campaign, body.to)
        except CampaignRefused as refused:
            raise ValidationFailed(str(refused), [FieldProblem("to", "invalid", "is not a seed of the campaign")]) \
                from refused
        send_queue().send_batch([CampaignTestMessage(campaign_id=campaign_id, to=seed, language=body.language,
                                                     config_version=active.version)])
        audit_log().record(Change(user.recorded_as, "campaign.test", campaign_id, now,
                                  {"language": body.language, "config_version": active.version}))
        return answer(202, {"queued": True, "campaign_id": campaign_id, "config_version": active.version})

    changed = {200: documented("The campaign's new state", "application/json"), **NOT_FOUND, **CHANGED, **SIGNED_IN}

    @app.post("/v1/console/campaigns/<campaign_id>/schedule", summary="Send a draft campaign at its time",
              parameters=CampaignRef, **CONSOLE, responses=changed)
    def schedule_campaign(campaign_id: str) -> Response:
        active = active_config()

        def scheduled(current: CampaignState | None, by: str, now: datetime) -> CampaignState:
            return schedule(active.config, campaign_id, current, active.version, by, now)

        return _change(app.current_request, campaign_id, "campaign.schedule", scheduled, lambda state: {
            "sends_from": state.sends_from, "config_version": active.version})

    @app.post("/v1/console/campaigns/<campaign_id>/cancel", summary="Stop a scheduled or sending campaign",
              parameters=CampaignRef, **CONSOLE, responses=changed)
    def cancel_campaign(campaign_id: str) -> Response:
        return _change(app.current_request, campaign_id, "campaign.cancel",
                       lambda current, _, now: cancel(current, campaign_id, now), lambda _: {})


def register_email_routes(app: Router) -> None:
    @app.get("/v1/console/sequences", summary="Each sequence as its steps in order, with each step's results "
             "(from its counters: one read for every step)", **CONSOLE,
             responses={200: documented("The sequences", "application/json"), **SIGNED_IN})
    def sequences() -> Response:
        from nurture.domain.console.emails import counted_steps, sequence_diagrams  # the report's rates: this route's

        require(signed_in(app.current_request), "campaigns:read")
        config = marketer_config().sequences
        totals = campaign_store().step_totals(counted_steps(config))
        return answer(200, {"sequences": sequence_diagrams(config, totals)})

    @app.get("/v1/console/calendar", summary="The year's marketing calendar: what a lead of each rank and each "
             "campaign segment receives month by month, and the months in which it gets nothing",
             parameters=CalendarYear, **CONSOLE,
             responses={200: documented("The calendar", "application/json"), 422: problem_doc("Not a year"),
                        **SIGNED_IN})
    def calendar(year: int | None) -> Response:
        from nurture.domain.campaigns.calendar import build_calendar  # the sequencing rules run forward: this route's

        require(signed_in(app.current_request), "campaigns:read")
        config = marketer_config()
        zone = ZoneInfo(config.sequences.send_window.timezone)
        chosen = year or utc_now().astimezone(zone).year
        return answer(200, build_calendar(chosen, config.sequences, config.segments, config.campaigns, zone))


def _change(request: ApiRequest, campaign_id: str, action: Action,
            next_state: Callable[[CampaignState | None, str, datetime], CampaignState],
            detail: Callable[[CampaignState], dict[str, str | int]]) -> Response:
    """A campaign's state changed by a signed-in marketer, if it is still as read, with the record of it."""
    user = signed_in(request)
    require(user, "campaigns:write")
    _campaign(campaign_id)
    store, now = campaign_store(), utc_now()
    current = store.state(campaign_id)
    try:
        state = next_state(current, user.recorded_as, now)
        store.put(state, current.status if current else None,
                  change=Change(user.recorded_as, action, campaign_id, now, detail(state)))
    except CampaignRefused as refused:
        raise ChangeRefused(str(refused)) from refused
    return answer(200, state.to_item())
