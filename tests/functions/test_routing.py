"""Hot leads routed to their owner in the handoff's own transaction, with the real functions under moto."""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from nurture.adapters.scoring_store import DynamoScoringStore
from nurture.domain.score_batch import score_batch
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from nurture.local.streams import StreamPoller
from nurture.settings import marketer_config
from nurture.streams.scoring import parse_record
from tests.functions.helpers import items_under, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")


def demo_request(email: str, company: str, **fields: str) -> str:
    return submit("/v1/forms/demo", {"email": email, "name": "担当 太郎", "company": company, "title": "部長",
                                     "phone": "03-1234-5678", "consent": True, **fields})


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
    assert messages[first]["schema_version"] == 2 and messages[first]["company"]["prefecture"] == "大阪府"
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


def test_round_robin_stays_fair_when_fifty_leads_turn_hot_at_once():
    # Given fifty demo requests from Tokyo, each its own company, scored by ten scorers at once (as ten
    # stream shards' invocations would: here each scorer is the domain with its own store, since the
    # local runtime runs one invocation of a function at a time)
    resources = LocalResources()
    records: list[dict[str, Any]] = []
    poller = StreamPoller(resources.table_name, resources.region,
                          {"scoring": lambda event: records.extend(event["Records"]), "handoff": lambda event: None})
    leads = [demo_request(f"lead{n}@tokyo{n}.example.co.jp", f"東京商事{n}", prefecture="東京都") for n in range(50)]
    poller.poll_once()
    config, now = marketer_config(), datetime.now(UTC)

    def score(record: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
        """The leads handed off, and the record again if it kept losing races (the stream retries it)."""
        lead_id, events = parse_record(DynamoDBRecord(record))
        outcome = score_batch({lead_id: events}, DynamoScoringStore(resources.table_name), config.scoring, now, 730,
                              click_burst_seconds=1, url_groups=config.segments.url_groups, sales=config.sales)
        return outcome.handoffs, record if outcome.failed else None

    handed_off: list[str] = []
    with ThreadPoolExecutor(max_workers=10) as pool:
        for _ in range(10):
            answers = list(pool.map(score, records))
            handed_off += [lead for handoffs, _ in answers for lead in handoffs]
            records = [record for _, record in answers if record is not None]
            if not records:
                break

    # Then every lead is handed off once, and the east team's two members got 25 each
    assert sorted(handed_off) == sorted(leads)
    owners = Counter(str(profile(lead)["owner"]) for lead in leads)
    assert set(owners) == {"suzuki", "sato"} and max(owners.values()) - min(owners.values()) <= 1


@pytest.mark.parametrize(("verdicts", "next_owner"), [
    (["accepted"], "smith"), (["won"], "tanaka"), (["accepted", "lost"], "tanaka"), (["rejected"], "tanaka"),
    (["recycle", "recycle"], "tanaka")])
def test_a_verdict_that_closes_a_handoff_frees_its_owner_for_least_loaded_routing(verdicts, next_owner):
    # Given a large company's lead handed to tanaka, the first of the enterprise team (both have none open)
    pipeline = Pipeline()
    first = demo_request("a@big-one.example.co.jp", "大手第一", employees="5000")
    pipeline.drain()
    assert profile(first)["owner"] == "tanaka"
    # When sales give their verdicts on it
    for verdict in verdicts:
        answer = api_request("POST", f"/v1/leads/{first}/feedback", headers={"content-type": "application/json"},
                             body=json.dumps({"outcome": verdict}).encode())
        assert answer is not None and answer["statusCode"] == 200, answer
    # Then the next large company goes to whoever has fewer open: smith while tanaka still works the first
    second = demo_request("b@big-two.example.co.jp", "大手第二", employees="5000")
    pipeline.drain()
    assert profile(second)["owner"] == next_owner
