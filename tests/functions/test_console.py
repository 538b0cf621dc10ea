"""The console API under moto: who may read what, as the JWT authorizer passes the user's claims on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nurture.local.events import http_api_event, match_route
from nurture.local.functions import invoke
from tests.functions.helpers import profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")

ADMIN = {"sub": "u-admin", "email": "admin@example.jp", "cognito:groups": ["admin"]}
MARKETER = {"sub": "u-marketer", "email": "marketer@example.jp", "cognito:groups": ["marketer"]}
TANAKA = {"sub": "u-tanaka", "email": "tanaka@example.co.jp", "cognito:groups": ["sales"]}  # config/sales.yaml's
SMITH = {"sub": "u-smith", "email": "SMITH@example.co.jp", "cognito:groups": ["sales"]}
NOBODY_IN_SALES = {"sub": "u-other", "email": "someone@example.co.jp", "cognito:groups": ["sales"]}
NO_GROUP = {"sub": "u-none", "email": "admin@example.jp"}


def console(path: str, claims: dict[str, Any] | None, query: str = "") -> dict[str, Any]:
    """A GET as the HTTP API hands it on: with the claims of a token its authorizer accepted, or with none."""
    matched = match_route("GET", path)
    assert matched is not None
    route, parameters = matched
    answer: dict[str, Any] = invoke("console", http_api_event("GET", path, query=query, route=route,
                                                              path_parameters=parameters, jwt_claims=claims))
    return answer


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def hot_lead(pipeline: Pipeline, name: str) -> str:
    """A demo request from a large company: hot at once, routed to the enterprise team (tanaka, then smith)."""
    lead_id = submit("/v1/forms/demo", {"email": f"buyer@{name}.example.co.jp", "name": "担当 太郎",
                                        "company": f"大手 {name}", "title": "部長", "phone": "03-1234-5678",
                                        "consent": True, "employees": "5000"})
    pipeline.drain()
    return lead_id


@pytest.mark.parametrize("path", ["/v1/console/me", "/v1/console/leads", "/v1/console/leads/some-lead"])
def test_a_request_without_a_signed_in_user_is_401_problem_json(path: str):
    answer = console(path, None)

    assert answer["statusCode"] == 401 and answer["headers"]["Content-Type"] == "application/problem+json"
    assert body(answer)["type"].endswith("/not-signed-in")


@pytest.mark.parametrize("path", ["/v1/console/leads", "/v1/console/leads/some-lead"])
def test_a_user_in_no_console_group_is_403_and_shown_nothing(path: str):
    answer = console(path, NO_GROUP)

    assert answer["statusCode"] == 403 and body(answer)["type"].endswith("/forbidden")


def test_me_says_who_and_what_they_may_do_from_the_authorizers_string_claims():
    me = body(console("/v1/console/me", {**MARKETER, "cognito:groups": "[marketer admin]", "email_verified": "true"}))

    assert me["email"] == "marketer@example.jp" and me["groups"] == ["admin", "marketer"]
    assert "leads:erase" in me["may"]


def test_marketers_see_every_lead_of_a_rank_and_a_salesperson_only_their_own():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "big-one"), hot_lead(pipeline, "big-two")
    assert (profile(tanakas)["owner"], profile(smiths)["owner"]) == ("tanaka", "smith")
    rank = profile(tanakas)["rank"]

    for user in (ADMIN, MARKETER):
        listed = body(console("/v1/console/leads", user, f"rank={rank}"))["leads"]
        assert {lead["lead_id"] for lead in listed} >= {tanakas, smiths}
    assert [lead["lead_id"] for lead in body(console("/v1/console/leads", TANAKA))["leads"]] == [tanakas]
    assert [lead["lead_id"] for lead in body(console("/v1/console/leads", SMITH))["leads"]] == [smiths]
    assert console("/v1/console/leads", NOBODY_IN_SALES)["statusCode"] == 403


def test_a_lead_shows_its_score_over_time_step_by_step_and_who_did_each_thing():
    pipeline = Pipeline()
    lead_id = hot_lead(pipeline, "big-three")

    lead = body(console(f"/v1/console/leads/{lead_id}", MARKETER))

    steps = [point for point in lead["score_history"] if point["rule_id"]]
    assert steps and all(point["points"] and point["at"] for point in steps)
    assert lead["score_history"][-1]["total"] == pytest.approx(lead["scores"]["total"], abs=0.01)
    assert {activity["by"] for activity in lead["activities"]} <= {"person", "machine"}
    assert lead["activities"][0]["by"] == "person"


def test_a_salesperson_asking_for_another_owners_lead_learns_no_more_than_of_a_missing_one():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "big-four"), hot_lead(pipeline, "big-five")

    assert console(f"/v1/console/leads/{tanakas}", TANAKA)["statusCode"] == 200
    theirs, missing = console(f"/v1/console/leads/{smiths}", TANAKA), console("/v1/console/leads/nobody", TANAKA)
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert body(theirs)["detail"].replace(smiths, "ID") == body(missing)["detail"].replace("nobody", "ID")


def test_a_lead_is_found_by_its_address_in_any_case_by_whoever_may_see_it():
    pipeline = Pipeline()
    tanakas, smiths = hot_lead(pipeline, "big-six"), hot_lead(pipeline, "big-seven")

    def found(user: dict[str, Any], address: str) -> list[str]:
        return [lead["lead_id"] for lead in body(console("/v1/console/leads", user, f"email={address}"))["leads"]]

    assert found(MARKETER, "Buyer@BIG-SIX.example.co.jp") == [tanakas]
    assert found(TANAKA, "buyer@big-six.example.co.jp") == [tanakas]
    assert found(TANAKA, "buyer@big-seven.example.co.jp") == []  # smith's: as if there were none
    assert found(MARKETER, "nobody@example.jp") == []
    assert smiths and console("/v1/console/leads", MARKETER, "email=not-an-address")["statusCode"] == 422
