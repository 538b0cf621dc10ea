"""The sales API under moto: look-up, lists by rank, feedback and erasure."""

import json

import pytest

from nurture.domain.kpis import KPIS
from nurture.local.functions import api_request
from tests.functions.helpers import all_items, body_json, items_under, lead_id_of, post_json, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")


def request(method, path, payload=None, query=""):
    response = api_request(method, path, query=query, headers={"content-type": "application/json"},
                           body=json.dumps(payload).encode() if payload is not None else None)
    assert response is not None
    return response


def scored_lead(email="sales@example.co.jp", form="contact", **extra) -> str:
    pipeline = Pipeline()
    lead_id = submit(f"/v1/forms/{form}", {"email": email, "name": "営業 花子", "company": "株式会社X",
                                                         "title": "部長", "consent": True, **extra})
    pipeline.drain()
    return lead_id


def test_get_lead_shows_scores_breakdown_and_activity():
    lead_id = scored_lead()
    lead = body_json(request("GET", f"/v1/leads/{lead_id}"))
    assert lead["lead_id"] == lead_id and lead["profile"]["email"] == "sales@example.co.jp"
    assert (lead["status"], lead["suppressed"], lead["stage"]) == ("active", False, "nurturing")
    assert lead["scores"] == {"fit": 20, "engagement": pytest.approx(30, abs=0.01),
                              "total": pytest.approx(50, abs=0.01)}
    assert lead["rank"] == "B"
    rules = {row["rule_id"]: row["points"] for row in lead["breakdown"]}
    assert rules == {"contact_form": 30, "title_head": 20}
    assert [a["type"] for a in lead["activities"]] == ["form_submit"]


def test_unknown_lead_is_a_404_problem():
    response = request("GET", "/v1/leads/nope")
    assert response["statusCode"] == 404 and body_json(response)["type"].endswith("lead-not-found")


def test_leads_are_listed_by_rank_highest_first_across_pages():
    totals = {}
    for n, form in enumerate(["contact", "seminar", "whitepaper"]):
        extra = {"session": "2026-12-10"} if form == "seminar" else {}
        lead_id = scored_lead(f"list{n}@example.co.jp", form, **extra)
        totals[lead_id] = body_json(request("GET", f"/v1/leads/{lead_id}"))["scores"]["total"]
    first = body_json(request("GET", "/v1/leads", query="rank=B&limit=2"))
    second = body_json(request("GET", "/v1/leads", query=f"rank=B&limit=2&cursor={first['next_cursor']}"))
    listed = [lead["lead_id"] for lead in first["leads"] + second["leads"]]
    assert listed == sorted(totals, key=lambda lead_id: -totals[lead_id])
    assert second["next_cursor"] is None


FORGED_CURSOR = __import__("base64").urlsafe_b64encode(b'{"x": 1}').decode()


@pytest.mark.parametrize("query", ["rank=Z", "limit=0", "limit=1000", "cursor=%%%", f"cursor={FORGED_CURSOR}"])
def test_bad_list_queries_are_422(query):
    response = request("GET", "/v1/leads", query=query)
    assert response["statusCode"] == 422
    assert response["headers"]["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("payload", [{"outcome": "maybe"}, {}, {"outcome": "won", "extra": 1},
                                     {"outcome": "won", "note": "x" * 3000}])
def test_bad_feedback_is_422_and_changes_nothing(payload):
    lead_id = scored_lead()
    before = body_json(request("GET", f"/v1/leads/{lead_id}"))
    response = request("POST", f"/v1/leads/{lead_id}/feedback", payload)
    assert response["statusCode"] == 422
    assert body_json(request("GET", f"/v1/leads/{lead_id}"))["stage"] == before["stage"]


def test_feedback_body_that_is_not_utf8_is_a_clean_400():
    lead_id = scored_lead()
    response = api_request("POST", f"/v1/leads/{lead_id}/feedback", headers={"content-type": "application/json"},
                           body=b'{"outcome": "won", "note": "\xff\xfe"}')
    assert response is not None and response["statusCode"] == 400


def test_feedback_for_an_unknown_lead_is_404():
    assert request("POST", "/v1/leads/nope/feedback", {"outcome": "won"})["statusCode"] == 404


@pytest.mark.parametrize(("outcome", "stage", "status"),
                         [("accepted", "accepted", "active"), ("won", "won", "converted"),
                          ("lost", "recycled", "recycled"), ("rejected", "recycled", "recycled")])
def test_feedback_moves_the_lead_and_is_recorded_as_activity(outcome, stage, status):
    lead_id = scored_lead()
    response = request("POST", f"/v1/leads/{lead_id}/feedback", {"outcome": outcome, "reason": "理由"})
    assert body_json(response) == {"lead_id": lead_id, "outcome": outcome, "stage": stage, "status": status}
    lead = body_json(request("GET", f"/v1/leads/{lead_id}"))
    assert (lead["stage"], lead["status"]) == (stage, status)
    assert lead["activities"][0]["type"] == "sales_feedback" and lead["activities"][0]["outcome"] == outcome
    if stage == "recycled":
        assert lead["scores"]["engagement"] == 0
        # the breakdown speaks of this cycle only: what was earned before the recycle is history
        assert [row["rule_id"] for row in lead["breakdown"] if row["kind"] == "engagement"] == []


def test_erasure_leaves_nothing_but_the_suppression_hash():
    vid = "erase-visitor-1"
    post_json("/v1/events", {"vid": vid, "type": "page_view", "url": "https://example.jp/"})
    lead_id = scored_lead("erase.me@example.co.jp", "demo", phone="03-0000-0000", vid=vid)

    assert request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 204

    # The day's KPI counters stay: numbers of nobody in particular, as the report's totals.
    counted = [item for item in all_items() if item["PK"] == "KPIS"]
    assert counted and all(set(item) <= {"PK", "SK", "day", *KPIS} for item in counted)
    remaining = sorted((item for item in all_items() if not item["PK"].startswith("DEDUPE#") and item["PK"] != "KPIS"),
                       key=lambda item: item["PK"])
    assert [(item["PK"].split("#")[0], item["SK"]) for item in remaining] == [("SUPPRESS", "SUPPRESS"),
                                                                              ("VISITOR", "IDENTITY")]
    assert "erase.me" not in json.dumps(remaining, default=str) and lead_id not in json.dumps(remaining, default=str)
    assert remaining[1]["erased"] is True  # the browser's tombstone: no lead, no personal data
    assert request("DELETE", f"/v1/leads/{lead_id}")["statusCode"] == 404
    assert request("GET", f"/v1/leads/{lead_id}")["statusCode"] == 404

    # The same person submitting the same form again, within the duplicate window, is a new lead, and
    # their browser is theirs again.
    again = post_json("/v1/forms/demo", {"email": "erase.me@example.co.jp", "name": "営業 花子",
                                         "company": "株式会社X", "title": "部長", "consent": True,
                                         "phone": "03-0000-0000", "vid": vid})
    assert again["statusCode"] == 202 and lead_id_of("erase.me@example.co.jp") != lead_id
    assert items_under(f"VISITOR#{vid}", "IDENTITY")[0]["lead_id"] == lead_id_of("erase.me@example.co.jp")


def test_repeated_feedback_changes_nothing_the_second_time():
    lead_id = scored_lead()
    first = request("POST", f"/v1/leads/{lead_id}/feedback", {"outcome": "recycle"})
    again = request("POST", f"/v1/leads/{lead_id}/feedback", {"outcome": "recycle"})
    assert body_json(again) == body_json(first)
    lead = body_json(request("GET", f"/v1/leads/{lead_id}"))
    assert [a["type"] for a in lead["activities"]].count("sales_feedback") == 1


def test_sales_sets_the_types_the_person_asked_for_and_the_consent_history_tells_when_and_how():
    lead_id = scored_lead("choices@example.co.jp")
    done = request("POST", f"/v1/leads/{lead_id}/subscriptions", {"receive": {"seminar": False, "newsletter": True}})
    assert done["statusCode"] == 200 and body_json(done) == {"changed": True}  # newsletter was in by default
    again = request("POST", f"/v1/leads/{lead_id}/subscriptions", {"receive": {"seminar": False}})
    assert body_json(again) == {"changed": False}
    view = body_json(request("GET", f"/v1/leads/{lead_id}"))
    assert view["profile"]["subscriptions"]["seminar"]["choice"] == "out"
    assert view["profile"]["subscriptions"]["seminar"]["via"] == "sales_api"
    choice, form = view["consent_history"]  # newest first: the choice, then the form's consent
    assert (choice["kind"], choice["via"], choice["left"], choice["joined"]) == ("subscriptions", "sales_api",
                                                                                 ["seminar"], [])
    assert form["granted"] is True and form["form_id"] == "contact" and "source_ip" not in form


def test_sales_cannot_set_an_unknown_type_a_missing_lead_or_one_that_left_everything(caplog):
    lead_id = scored_lead("refused@example.co.jp")
    unknown = request("POST", f"/v1/leads/{lead_id}/subscriptions", {"receive": {"webinars": True, "山田太郎": True}})
    assert unknown["statusCode"] == 422 and body_json(unknown)["errors"][0]["field"] == "receive.webinars"
    # What the caller typed as a key is answered, never logged: the log names the schema's field only
    (rejected,) = [record for record in caplog.records if record.getMessage() == "rejected request"]
    assert rejected.fields == ["receive"] and "山田太郎" not in caplog.text
    missing = request("POST", "/v1/leads/nobody/subscriptions", {"receive": {"seminar": True}})
    assert missing["statusCode"] == 404
    from nurture.adapters.token_keys import token_signer
    from nurture.domain.tokens import UNSUBSCRIBE
    from nurture.local.resources import LocalResources

    token = token_signer(LocalResources().signing_key_parameter).sign(UNSUBSCRIBE, {"l": lead_id, "m": "m"})
    api_request("POST", f"/v1/unsubscribe/{token}", headers={"content-type": "application/x-www-form-urlencoded"},
                body=b"scope=everything")
    left = request("POST", f"/v1/leads/{lead_id}/subscriptions", {"receive": {"seminar": True}})
    assert left["statusCode"] == 409 and "subscriptions" not in items_under(f"LEAD#{lead_id}", "PROFILE")[0]
