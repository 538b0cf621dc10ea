"""Accounts (issue 24, part 1): leads join their company's account as the scorer sees them, from the company's name
or, without one, the address's domain; the sales API shows the account's score, buying group and people. The real
forms, scoring and sales API functions under moto, the stream replayed as Lambda may deliver it again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from nurture import keys
from nurture.adapters.account_store import DynamoAccountStore
from nurture.adapters.audience_store import DynamoAudienceStore
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.config.records import validated
from nurture.config.segments import SegmentsConfig
from nurture.domain.audiences.evaluate import SegmentEvaluator
from nurture.domain.audiences.scan import ScanTask, new_job_id, run_part
from nurture.domain.errors import MergeRefused
from nurture.domain.importing import plan_import, run_import
from nurture.local.functions import api_request, invoke
from nurture.settings import marketer_config
from tests.functions.helpers import TABLE_NAME, items_under, lead_id_of, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")


def person(email: str, company: str | None, **fields: Any) -> str:
    """A lead from the whitepaper form; without a company, from a business-card list (every form asks for one)."""
    if company is None:
        plan = plan_import(f"メールアドレス,氏名\r\n{email},山田 太郎\r\n".encode(), "cards", "名刺交換時に同意")
        run_import(plan, "cards", DynamoLeadStore(TABLE_NAME), datetime.now(UTC), 730)
        return lead_id_of(email)
    return submit("/v1/forms/whitepaper", {"email": email, "name": "山田 太郎", "company": company, "consent": True,
                                           **fields})


def lead(lead_id: str) -> dict[str, Any]:
    return dict(json.loads(api_request("GET", f"/v1/leads/{lead_id}")["body"]))


def account(account_id: str) -> dict[str, Any]:
    answer = api_request("GET", f"/v1/accounts/{account_id}")
    assert answer["statusCode"] == 200, answer["body"]
    return dict(json.loads(answer["body"]))


def members(account_id: str) -> list[str]:
    return [item["lead_id"] for item in items_under(keys.account_id_pk(account_id), keys.MEMBER_PREFIX)]


def test_a_companys_people_form_one_account_with_its_buying_group_and_scores():
    pipeline = Pipeline()
    manager = person("sato@mirai.co.jp", "株式会社ミライ工房", title="情報システム部 部長")
    staff = person("suzuki.mirai@gmail.com", "ミライ工房（株）", title="担当", department="情報システム部")
    other = person("kato@example.co.jp", "株式会社サンプル", title="社長")
    pipeline.drain()

    account_id = lead(manager)["account_id"]
    assert account_id is not None and lead(staff)["account_id"] == account_id
    assert lead(other)["account_id"] not in (None, account_id)
    shown = account(account_id)
    assert {p["lead_id"] for p in shown["people"]} == {manager, staff}
    assert shown["name"] in ("株式会社ミライ工房", "ミライ工房（株）") and shown["domains"] == ["mirai.co.jp"]
    assert shown["buying_group"] == {"roles": {"decision_maker": 0, "manager": 1, "staff": 1, "it": 2},
                                     "missing": ["decision_maker"]}
    people = {p["lead_id"]: p for p in shown["people"]}
    assert shown["scores"]["fit"] == max(p["fit"] for p in people.values())
    assert shown["scores"]["engagement"] == pytest.approx(sum(p["engagement"] for p in people.values()), abs=0.02)
    assert shown["active_people"] == 2 and shown["rank"] in "ABC"
    assert (shown["hot"], shown["patterns"]) == (False, [])


def test_a_lead_without_a_company_joins_by_its_domain_and_free_mail_or_a_placeholder_joins_none():
    pipeline = Pipeline()
    by_domain = person("tanaka@kobo.example.jp", None)
    free = person("tanaka.private@gmail.com", None)
    nobody = person("yamada@gmail.com", "個人")  # no company, and free mail
    pipeline.drain()

    assert lead(free)["account_id"] is None and lead(nobody)["account_id"] is None
    account_id = lead(by_domain)["account_id"]
    assert account(account_id)["domains"] == ["kobo.example.jp"] and members(account_id) == [by_domain]


def test_a_lead_that_names_its_company_moves_there_and_a_replayed_old_batch_does_not_move_it_back():
    pipeline = Pipeline()
    moving = person("tanaka@kobo.example.jp", None)
    free = person("tanaka.private@gmail.com", None)
    pipeline.drain()
    by_domain = lead(moving)["account_id"]
    earlier = list(pipeline.batches["scoring"])

    # Both fill in their company on a form: the blank is filled, and the next batch moves them
    person("tanaka@kobo.example.jp", "工房エグザンプル")
    person("tanaka.private@gmail.com", "工房エグザンプル")
    pipeline.drain()
    by_name = lead(moving)["account_id"]
    assert by_name not in (None, by_domain) and lead(free)["account_id"] == by_name
    assert sorted(members(by_name)) == sorted([moving, free]) and members(by_domain) == []

    for batch in earlier:  # Lambda delivers the first batches again, after the move
        invoke("scoring", batch)
    assert sorted(members(by_name)) == sorted([moving, free]) and members(by_domain) == []
    assert api_request("GET", f"/v1/accounts/{by_domain}")["statusCode"] == 404


def test_erasing_a_lead_takes_it_out_of_its_account():
    pipeline = Pipeline()
    kept = person("sato@mirai.co.jp", "ミライ工房")
    erased = person("ito@mirai.co.jp", "ミライ工房")
    pipeline.drain()
    account_id = lead(kept)["account_id"]

    assert api_request("DELETE", f"/v1/leads/{erased}")["statusCode"] == 204

    assert members(account_id) == [kept]
    assert [p["lead_id"] for p in account(account_id)["people"]] == [kept]
    # The account's state forgets it (its marks, the name it may have typed); the one left keeps the account
    (state,) = items_under(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK)
    assert erased not in json.dumps(state, default=str) and "name" not in state
    assert set(state["marks"]["three_people_asked"]) == {kept}


def test_an_unknown_account_is_404_and_a_malformed_id_422():
    assert api_request("GET", f"/v1/accounts/{'0' * 32}")["statusCode"] == 404
    assert api_request("GET", "/v1/accounts/not-an-id")["statusCode"] == 422


def test_a_hot_leads_handoff_carries_its_account_and_its_colleagues_recent_activity():
    pipeline = Pipeline()
    colleague = person("suzuki@mirai.co.jp", "ミライ工房", title="担当", department="情報システム部")
    pipeline.drain()
    hot = submit("/v1/forms/demo", {"email": "sato@mirai.co.jp", "name": "佐藤", "company": "株式会社ミライ工房",
                                    "phone": "03-0000-0000", "title": "部長", "consent": True})
    pipeline.drain()

    (message,) = [m for m in pipeline.messages() if m["lead_id"] == hot]

    account_id = lead(hot)["account_id"]
    assert message["schema_version"] == 3 and message["account"]["id"] == account_id
    assert message["account"]["people"] == 2 and message["account"]["buying_group"]["missing"] == ["decision_maker"]
    (shown,) = message["account"]["colleagues"]
    assert (shown["lead_id"], shown["roles"], shown["title"]) == (colleague, ["staff", "it"], "担当")
    assert shown["activity"]["form_submit"]["n"] == 1


def test_three_people_of_a_company_sending_forms_hand_the_third_to_sales_once_however_often_replayed():
    pipeline = Pipeline()
    first = person("sato@kobo-mirai.jp", "株式会社コボミライ")
    second = person("ito@kobo-mirai.jp", "コボミライ（株）")
    pipeline.drain()
    assert pipeline.messages() == []  # two people are not yet a buying group at work
    third = person("kato@kobo-mirai.jp", "ｺﾎﾞﾐﾗｲ")
    pipeline.drain()

    (message,) = pipeline.messages()
    assert message["lead_id"] == third and lead(third)["stage"] == "handed_off"
    reasons = {p["id"]: p["reason"] for p in message["reasons"]["patterns"]}
    assert reasons["three_people_asked"].startswith("同じ会社の3人")
    assert {c["lead_id"] for c in message["account"]["colleagues"]} == {first, second}
    account_id = lead(third)["account_id"]
    (state,) = items_under(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK)
    assert state["fired"]["three_people_asked"]["lead_id"] == third
    shown = account(account_id)
    assert shown["hot"] is True and [(p["id"], p["lead_id"]) for p in shown["patterns"]] == [
        ("three_people_asked", third)]

    for batch in list(pipeline.batches["scoring"]):  # Lambda delivers every batch again
        invoke("scoring", batch)
    person("ueda@kobo-mirai.jp", "株式会社コボミライ")  # a fourth within the 14 days: it fired already
    pipeline.drain()
    assert pipeline.messages() == []  # nothing handed on again
    assert items_under(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK)[0]["version"] == state["version"] + 1


def test_accounts_are_listed_by_rank_as_their_peoples_activity_left_them():
    pipeline = Pipeline()
    person("sato@mirai.co.jp", "株式会社ミライ工房", title="部長")
    person("suzuki@mirai.co.jp", "ミライ工房", title="担当")
    person("kato@example.co.jp", "株式会社サンプル")
    pipeline.drain()

    listed = {a["account_id"]: a for rank in "ABC" for a in accounts(f"rank={rank}")["accounts"]}
    assert len(listed) == 2
    mirai = next(a for a in listed.values() if a["people"] == 2)
    shown = account(mirai["account_id"])
    assert (mirai["name"], mirai["rank"], mirai["buying_group"], mirai["active_people"]) == (
        shown["name"], shown["rank"], shown["buying_group"], 2)
    assert mirai["scores"]["total"] == pytest.approx(shown["scores"]["total"], abs=0.05)
    first = accounts(f"rank={mirai['rank']}&limit=1")
    assert len(first["accounts"]) == 1
    assert api_request("GET", "/v1/accounts", query="rank=A&cursor=bm90LWEtY3Vyc29y")["statusCode"] == 422
    assert api_request("GET", "/v1/accounts", query="rank=D")["statusCode"] == 422


def accounts(query: str) -> dict[str, Any]:
    answer = api_request("GET", "/v1/accounts", query=query)
    assert answer is not None and answer["statusCode"] == 200, answer
    return dict(json.loads(answer["body"]))


def test_a_segment_scan_selects_leads_by_their_companys_standing():
    pipeline = Pipeline()
    pair = [person("sato@mirai.co.jp", "株式会社ミライ工房", title="部長"),
            person("suzuki@mirai.co.jp", "ミライ工房", title="担当")]
    person("kato@example.co.jp", "株式会社サンプル", title="担当")
    person("yamada@gmail.com", None)  # no account at all
    pipeline.drain()
    segments = validated(SegmentsConfig, {"segments": {
        "busy_companies": {"account": {"people": {"min": 2}, "roles": ["manager", "staff"]}},
        "no_manager": {"account": {"missing": ["manager"]}}}})
    config = marketer_config()
    evaluator = SegmentEvaluator(segments, config.scoring, config.subscriptions)
    store = DynamoAudienceStore(TABLE_NAME)

    def members(segment: str) -> set[str]:
        scan = ScanTask.of(job_id=new_job_id(), segment=segment, part=0, parts=1, config_version=1, sample=10)
        store.create_job(scan, "count", "test", datetime.now(UTC))
        run_part(scan, store, Sent(), evaluator, datetime.now(UTC), lambda: 60_000, reserve_ms=1)
        progress = store.progress(scan.job_id)
        assert progress is not None and progress.done
        return set(progress.sample(10))

    assert members("busy_companies") == set(pair)
    assert members("no_manager") == {lead_id_of("kato@example.co.jp")}


class Sent:
    def send(self, task: Any) -> None:
        raise AssertionError("one page: nothing is handed on")


def post(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = api_request("POST", path, headers={"content-type": "application/json"},
                         body=json.dumps(body or {}).encode())
    assert answer is not None
    return {"status": answer["statusCode"], **json.loads(answer["body"] or "{}")}


def one_company_two_accounts() -> tuple[Pipeline, str, str]:
    """A company known by its domain (a business card without its name) and by its name (a form): two accounts
    until sales merge them. The pipeline and its two people's lead ids, scored."""
    pipeline = Pipeline()
    by_domain, named = person("tanaka@kobo.example.jp", None), person("sato@kobo.example.jp", "工房エグザンプル")
    pipeline.drain()
    return pipeline, by_domain, named


def test_sales_merge_a_companys_domain_account_into_its_named_one_and_split_it_back():
    pipeline, by_domain, named = one_company_two_accounts()
    domain_account, named_account = lead(by_domain)["account_id"], lead(named)["account_id"]
    assert domain_account != named_account

    assert post(f"/v1/accounts/{domain_account}/merge", {"into": named_account}) == {
        "status": 200, "merged": domain_account, "into": named_account, "moved": 1, "more": False}
    assert {p["lead_id"] for p in account(named_account)["people"]} == {by_domain, named}
    # The merged account's page is the one it went into, saying so
    went = account(domain_account)
    assert went["account_id"] == named_account and went["merged_from"] == domain_account
    assert {p["lead_id"] for p in went["people"]} == {by_domain, named}
    assert items_under(keys.account_id_pk(domain_account), keys.ACCOUNT_STATE_SK) == []  # listed no more
    # Its activity, a replay, and a newcomer at the merged domain: all in the account it went into
    person("tanaka@kobo.example.jp", None)
    newcomer = person("suzuki@kobo.example.jp", None)
    pipeline.drain()
    for batch in list(pipeline.batches["scoring"]):
        invoke("scoring", batch)
    assert sorted(members(named_account)) == sorted([by_domain, named, newcomer]) and members(domain_account) == []
    assert lead(newcomer)["account_id"] == named_account
    assert newcomer in {p["lead_id"] for p in account(named_account)["people"]}

    assert post(f"/v1/accounts/{domain_account}/merge", {"into": named_account})["moved"] == 0  # a rerun
    assert post(f"/v1/accounts/{named_account}/merge", {"into": named_account})["status"] == 409
    assert post(f"/v1/accounts/{named_account}/merge", {"into": domain_account})["status"] == 409  # merged one
    assert post(f"/v1/accounts/{named_account}/split")["status"] == 409  # not merged
    assert post(f"/v1/accounts/{'0' * 32}/merge", {"into": named_account})["status"] == 404
    assert post(f"/v1/accounts/{domain_account}/merge", {"into": "nope"})["status"] == 422

    assert post(f"/v1/accounts/{domain_account}/split") == {
        "status": 200, "split": domain_account, "from": named_account, "moved": 2, "more": False}
    person("suzuki@kobo.example.jp", None)  # new activity after the split leaves it where it is
    pipeline.drain()
    assert sorted(members(domain_account)) == sorted([by_domain, newcomer]) and members(named_account) == [named]
    assert "merged_from" not in account(domain_account)
    assert post(f"/v1/accounts/{domain_account}/split")["status"] == 409


def test_a_lead_staying_in_its_account_while_its_company_points_elsewhere_is_written_without_a_move():
    pipeline = Pipeline()
    sato = person("sato@kobo.example.jp", "工房エグザンプル")
    pipeline.drain()
    named_account = lead(sato)["account_id"]
    key = DynamoLeadStore(TABLE_NAME).profile(sato)["account"]
    # As when a merged domain's alias points to the account the lead is in already
    assert DynamoAccountStore(TABLE_NAME).join_account(sato, key, key, came_from="@kobo.example.jp")
    assert members(named_account) == [sato]
    assert DynamoLeadStore(TABLE_NAME).profile(sato)["account_from"] == "@kobo.example.jp"


def test_a_lead_never_joins_an_account_merged_meanwhile_and_opposite_merges_cannot_both_be_recorded():
    pipeline, domain_lead, named_lead = one_company_two_accounts()
    store = DynamoAccountStore(TABLE_NAME)
    domain_key = DynamoLeadStore(TABLE_NAME).profile(domain_lead)["account"]
    named_key = DynamoLeadStore(TABLE_NAME).profile(named_lead)["account"]
    store.record_merge(keys.account_id(domain_key), {"into": named_key, "from": domain_key, "at": "2026-12-05"})

    # The opposite merge, started before the first was seen, is refused: no loop
    with pytest.raises(MergeRefused, match="merged meanwhile"):
        store.record_merge(keys.account_id(named_key), {"into": domain_key, "from": named_key, "at": "2026-12-05"})
    # A newcomer that read "not merged" just before the merge joins nothing; its next batch follows the merge
    newcomer = person("suzuki@kobo.example.jp", None)
    assert store.join_account(newcomer, domain_key, None) is False
    assert members(keys.account_id(domain_key)) == [domain_lead]  # only the one the merge has yet to move
    pipeline.drain()
    assert lead(newcomer)["account_id"] == keys.account_id(named_key)


def test_a_merged_companys_newcomer_tells_the_account_it_went_into_and_the_merged_one_stays_unlisted():
    pipeline, by_domain, named = one_company_two_accounts()
    domain_account, named_account = lead(by_domain)["account_id"], lead(named)["account_id"]
    assert post(f"/v1/accounts/{named_account}/merge", {"into": domain_account})["moved"] == 1

    newcomer = person("kato@kobo.example.jp", "工房エグザンプル")  # a form: its day marks the account's patterns
    pipeline.drain()

    assert lead(newcomer)["account_id"] == domain_account
    assert items_under(keys.account_id_pk(named_account), keys.ACCOUNT_STATE_SK) == []  # not told, not listed
    state = items_under(keys.account_id_pk(domain_account), keys.ACCOUNT_STATE_SK)
    assert state and newcomer in str(state[0].get("marks"))
