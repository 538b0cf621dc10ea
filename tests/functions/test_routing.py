"""Hot leads routed to their owner in the handoff's own transaction, with the real functions under moto."""

import base64
import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from nurture.adapters.scoring_store import DynamoScoringStore
from nurture.domain.score_batch import score_batch
from nurture.local.events import http_api_event, match_route
from nurture.local.functions import api_request, invoke
from nurture.local.resources import LocalResources
from nurture.local.streams import StreamPoller
from nurture.settings import marketer_config
from nurture.streams.records import StreamRecord
from nurture.streams.scoring import parse_record
from tests.functions.helpers import events_under, items_under, listed, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")


# A cursor of the rank-A list: a page of one list never continues another.
RANK_CURSOR = base64.urlsafe_b64encode(json.dumps({
    "PK": {"S": "LEAD#x"}, "SK": {"S": "PROFILE"}, "rank_pk": {"S": "RANK#A"}, "rank_sk": {"S": "1#x"}}).encode()
).decode()


def events_of(lead_id: str) -> list[dict[str, Any]]:
    return events_under(f"LEAD#{lead_id}")


def demo_request(email: str, company: str, **fields: str) -> str:
    return submit("/v1/forms/demo", {"email": email, "name": "担当 太郎", "company": company, "title": "部長",
                                     "phone": "03-1234-5678", "consent": True, **fields})


def large_companies_turn_hot(pipeline: Pipeline, *names: str) -> list[str]:
    """Demo requests from large companies (the enterprise team's, least loaded), each routed before the next."""
    leads = []
    for name in names:
        leads.append(demo_request(f"buyer@{name}.example.co.jp", f"大手 {name}", employees="5000"))
        pipeline.drain()
    return leads


def test_leads_from_one_region_are_dealt_to_its_team_in_turn_and_carry_their_owner_everywhere():
    pipeline = Pipeline()
    first = demo_request("a@osaka-one.example.co.jp", "大阪第一", prefecture="大阪府")
    pipeline.drain()
    second = demo_request("b@kobe-two.example.co.jp", "神戸第二", prefecture="Hyogo")
    pipeline.drain()

    messages = {message["lead_id"]: message for message in pipeline.messages()}
    assert [messages[lead]["owner"]["id"] for lead in (first, second)] == ["ito", "sato"]
    owner = messages[first]["owner"]
    assert owner == {"id": "ito", "kind": "person", "name": "伊藤 美咲", "email": "ito@example.co.jp",
                     "team": "west", "rule": "west_japan", "strategy": "round_robin",
                     "reason": "西日本の企業 (a company in west Japan)"}
    assert messages[first]["schema_version"] == 3 and messages[first]["company"]["prefecture"] == "大阪府"
    (outbox,) = items_under(f"LEAD#{first}", "HANDOFF#")
    assert outbox["owner"]["id"] == "ito" and outbox["owner"]["rule"] == "west_japan"
    assert (profile(first)["owner"], profile(first)["owner_kind"]) == ("ito", "person")


def test_a_colleague_from_a_company_that_has_an_owner_goes_to_that_owner():
    pipeline = Pipeline()
    demo_request("boss@listco.example.co.jp", "株式会社リスト", prefecture="大阪府")
    pipeline.drain()
    colleague = demo_request("staff@listco.example.co.jp", "リスト（株）", prefecture="東京都")
    pipeline.drain()

    owners = {message["lead_id"]: message["owner"] for message in pipeline.messages()}
    assert owners[colleague]["id"] == "ito" and owners[colleague]["rule"] == "same_company"


def test_a_lead_no_rule_routes_is_handed_to_the_fallback_queue():
    pipeline = Pipeline()
    lead_id = demo_request("overseas@example.com", "Overseas Ltd", country="US")
    pipeline.drain()

    (message,) = pipeline.messages()
    assert message["owner"] == {"id": "unassigned", "kind": "queue", "name": "未割当 (unassigned)", "email": None,
                                "team": None, "rule": None, "strategy": "fallback", "reason": "no routing rule matched"}
    assert profile(lead_id)["owner_kind"] == "queue" and items_under("OWNER#unassigned") == []


def test_round_robin_stays_fair_when_twenty_leads_turn_hot_at_once():
    # Given twenty demo requests from Tokyo, each its own company, scored by ten scorers at once (as ten
    # stream shards' invocations would: here each scorer is the domain with its own store, since the
    # local runtime runs one invocation of a function at a time)
    leads, handed_off = score_concurrently(lambda: [
        demo_request(f"lead{n}@tokyo{n}.example.co.jp", f"東京商事{n}", prefecture="東京都") for n in range(20)],
        scorers=10)

    # Then every lead is handed off once, and the east team's two members got 10 each
    assert sorted(handed_off) == sorted(leads)
    owners = Counter(str(profile(lead)["owner"]) for lead in leads)
    assert set(owners) == {"suzuki", "sato"} and max(owners.values()) - min(owners.values()) <= 1


def score_concurrently(submit: Callable[[], list[str]], scorers: int) -> tuple[list[str], list[str]]:
    """The leads `submit` makes, their stream records scored by `scorers` threads at once, each record retried
    (as the stream retries it) while it loses races: the leads, and those handed off."""
    resources = LocalResources()
    records: list[dict[str, Any]] = []
    poller = StreamPoller(resources.table_name, resources.region,
                          {"scoring": lambda event: records.extend(event["Records"]), "handoff": lambda event: None})
    leads = submit()
    poller.poll_once()
    config, now = marketer_config(), datetime.now(UTC)

    def score(record: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
        lead_id, events = parse_record(StreamRecord(record))
        outcome = score_batch({lead_id: events}, DynamoScoringStore(resources.table_name), config.scoring, now, 730,
                              click_burst_seconds=1, url_groups=config.segments.url_groups, sales=config.sales)
        return outcome.handoffs, record if outcome.failed else None

    handed_off: list[str] = []
    with ThreadPoolExecutor(max_workers=scorers) as pool:
        for _ in range(10):
            answers = list(pool.map(score, records))
            handed_off += [lead for handoffs, _ in answers for lead in handoffs]
            records = [record for _, record in answers if record is not None]
            if not records:
                break
    return leads, handed_off


@pytest.mark.parametrize(("verdicts", "next_owner"), [
    (["accepted"], "smith"), (["won"], "tanaka"), (["accepted", "lost"], "tanaka"), (["rejected"], "tanaka"),
    (["recycle", "recycle"], "tanaka")])
def test_a_verdict_that_closes_a_handoff_frees_its_owner_for_least_loaded_routing(verdicts, next_owner):
    # Given a large company's lead handed to tanaka, the first of the enterprise team (both have none open)
    pipeline = Pipeline()
    (first,) = large_companies_turn_hot(pipeline, "big-one")
    assert profile(first)["owner"] == "tanaka"
    # When sales give their verdicts on it
    for verdict in verdicts:
        answer = api_request("POST", f"/v1/leads/{first}/feedback", headers={"content-type": "application/json"},
                             body=json.dumps({"outcome": verdict}).encode())
        assert answer is not None and answer["statusCode"] == 200, answer
    # Then the next large company goes to whoever has fewer open: smith while tanaka still works the first
    (second,) = large_companies_turn_hot(pipeline, "big-two")
    assert profile(second)["owner"] == next_owner


def test_erasing_a_lead_its_owner_was_working_frees_them_for_least_loaded_routing():
    pipeline = Pipeline()
    (first,) = large_companies_turn_hot(pipeline, "big-one")
    assert profile(first)["owner"] == "tanaka"
    answer = api_request("DELETE", f"/v1/leads/{first}")
    assert answer is not None and answer["statusCode"] == 204

    (load,) = items_under("OWNER#tanaka", "LOAD")
    assert load["open"] == 0
    (second,) = large_companies_turn_hot(pipeline, "big-two")
    assert profile(second)["owner"] == "tanaka"  # with one open still counted, smith would have had it


def owners_leads(owner: str, query: str = "") -> list[dict[str, Any]]:
    return listed("/v1/leads", f"owner={owner}{query}", "leads")


def give(lead_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer = api_request("POST", f"/v1/leads/{lead_id}/owner", headers={"content-type": "application/json"},
                         body=json.dumps(payload).encode())
    assert answer is not None
    return answer


def test_a_salesperson_lists_their_leads_by_stage_newest_first():
    pipeline = Pipeline()
    older, newer, mine = large_companies_turn_hot(pipeline, "big-a", "big-b", "big-c")
    assert [profile(lead)["owner"] for lead in (older, newer, mine)] == ["tanaka", "smith", "tanaka"]

    assert [lead["lead_id"] for lead in owners_leads("tanaka", "&stage=handed_off")] == [mine, older]
    api_request("POST", f"/v1/leads/{older}/feedback", headers={"content-type": "application/json"},
                body=json.dumps({"outcome": "accepted"}).encode())

    assert [lead["lead_id"] for lead in owners_leads("tanaka", "&stage=handed_off")] == [mine]
    (accepted,) = owners_leads("tanaka", "&stage=accepted")
    assert (accepted["lead_id"], accepted["stage"], accepted["owner"]) == (older, "accepted", "tanaka")
    # Without a stage, every stage in turn; a page at a time
    first = json.loads(api_request("GET", "/v1/leads", query="owner=tanaka&limit=1")["body"])
    rest = json.loads(api_request("GET", "/v1/leads", query=f"owner=tanaka&cursor={first['next_cursor']}")["body"])
    assert {lead["lead_id"] for lead in first["leads"] + rest["leads"]} == {older, mine}
    assert [lead["lead_id"] for lead in owners_leads("smith")] == [newer]
    assert owners_leads("nobody-here") == []  # someone no longer in sales.yaml may still own leads: not an error


def test_a_lead_given_to_a_colleague_moves_with_its_open_handoff_and_the_record_says_who_and_why():
    # Given two large companies' leads, one handed to each member of the enterprise team (least loaded)
    pipeline = Pipeline()
    first, second = large_companies_turn_hot(pipeline, "big-one", "big-two")
    assert [profile(lead)["owner"] for lead in (first, second)] == ["tanaka", "smith"]

    # When the manager gives smith's lead to tanaka
    answer = give(second, {"owner": "tanaka", "by": "山田 部長", "reason": "日本語で対応するため"})

    # Then it is tanaka's lead, in tanaka's list and no longer smith's, and its timeline says who and why
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"]) == {"lead_id": second, "owner": {"id": "tanaka", "kind": "person"},
                                          "previous": {"id": "smith", "kind": "person"}, "changed": True}
    lead = json.loads(api_request("GET", f"/v1/leads/{second}")["body"])
    assert lead["owner"] == {"id": "tanaka", "kind": "person"} and lead["stage"] == "handed_off"
    (changed,) = [a for a in lead["activities"] if a["type"] == "owner_changed"]
    assert (changed["from"], changed["to"], changed["by"], changed["reason"]) == (
        "smith", "tanaka", "山田 部長", "日本語で対応するため")
    assert {row["lead_id"] for row in owners_leads("tanaka", "&stage=handed_off")} == {first, second}
    assert owners_leads("smith") == []
    # and the open handoff went with it: tanaka has two open, smith none, so the next two go to smith
    later = large_companies_turn_hot(pipeline, "big-three", "big-four")
    assert [profile(lead)["owner"] for lead in later] == ["smith", "smith"]
    # A retried request changes nothing and records nothing twice
    again = give(second, {"owner": "tanaka", "by": "山田 部長", "reason": "日本語で対応するため"})
    assert json.loads(again["body"])["changed"] is False
    assert len([a for a in events_of(second) if a["type"] == "owner_changed"]) == 1


def test_a_lead_given_back_to_a_queue_frees_its_salesperson():
    pipeline = Pipeline()
    (first,) = large_companies_turn_hot(pipeline, "big-one")
    assert give(first, {"owner": "unassigned", "by": "tanaka", "reason": "担当外"})["statusCode"] == 200
    assert (profile(first)["owner"], profile(first)["owner_kind"]) == ("unassigned", "queue")
    assert [lead["lead_id"] for lead in owners_leads("unassigned")] == [first]
    later = large_companies_turn_hot(pipeline, "big-three", "big-four")
    assert [profile(lead)["owner"] for lead in later] == ["tanaka", "smith"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"owner": "nobody", "by": "山田", "reason": "x"}, "owner"),
    ({"owner": "Smith!", "by": "山田", "reason": "x"}, "owner"),
    ({"owner": "smith", "reason": "x"}, "by"),
    ({"owner": "smith", "by": "\u200b \u3000", "reason": "x"}, "by"),
    ({"owner": "smith", "by": "山田"}, "reason"),
    ({"owner": "smith", "by": "山田", "reason": "x", "extra": 1}, "extra"),
])
def test_a_reassignment_to_an_unknown_owner_or_without_who_and_why_is_422_and_changes_nothing(payload, field):
    pipeline = Pipeline()
    (lead_id,) = large_companies_turn_hot(pipeline, "big-one")
    before = profile(lead_id)

    answer = give(lead_id, payload)

    assert answer["statusCode"] == 422 and answer["headers"]["Content-Type"] == "application/problem+json"
    assert field in answer["body"]
    assert profile(lead_id) == before


def test_reassigning_a_lead_that_does_not_exist_is_404():
    assert give("no-such-lead", {"owner": "smith", "by": "山田", "reason": "x"})["statusCode"] == 404


@pytest.mark.parametrize("query", ["stage=accepted", "owner=tanaka&rank=A", "owner=Tanaka!", "owner=tanaka&stage=x",
                                   f"owner=tanaka&cursor={RANK_CURSOR}"])
def test_bad_owner_list_queries_are_422(query):
    answer = api_request("GET", "/v1/leads", query=query)
    assert answer is not None and answer["statusCode"] == 422, answer


def test_the_record_names_the_iam_principal_that_signed_the_request():
    pipeline = Pipeline()
    (lead_id,) = large_companies_turn_hot(pipeline, "big-one")
    event = http_api_event("POST", f"/v1/leads/{lead_id}/owner", headers={"content-type": "application/json"},
                           body=json.dumps({"owner": "smith", "by": "crm-sync", "reason": "CRM owner"}).encode(),
                           route=match_route("POST", f"/v1/leads/{lead_id}/owner")[0],
                           path_parameters={"lead_id": lead_id})
    event["requestContext"]["authorizer"] = {"iam": {
        "accessKey": "AKIAEXAMPLE", "accountId": "123456789012", "callerId": "AIDAEXAMPLE",
        "principalOrgId": None, "userArn": "arn:aws:iam::123456789012:user/crm-sync", "userId": "AIDAEXAMPLE"}}
    assert invoke("sales_api", event)["statusCode"] == 200
    (changed,) = [a for a in events_of(lead_id) if a["type"] == "owner_changed"]
    assert changed["caller"] == "arn:aws:iam::123456789012:user/crm-sync"
