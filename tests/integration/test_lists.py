"""`nurture import` and `nurture export` against the running local system, as a marketer uses them."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.local_system import RunningSystem, wait_for

pytestmark = pytest.mark.integration
CARDS = ("姓,名,会社名,部署,役職,メールアドレス,電話番号\n"
         "木村,拓也,株式会社リスト,情報システム部,部長,kimura@list.example.co.jp,０３－１１１１－２２２２\n"
         "中村,愛,リスト工業,,,nakamura@list.example.jp,\n"
         "中村,愛,リスト工業,営業部,,NAKAMURA@list.example.jp,\n"
         "名無し,,,,,,\n")


def test_a_shift_jis_card_list_is_imported_and_comes_back_in_the_export(local_system: RunningSystem,
                                                                        tmp_path: Path):
    # Given a business-card list saved by Excel in Japan
    cards = tmp_path / "cards.csv"
    cards.write_bytes(CARDS.encode("cp932"))

    # When it is checked, then imported, then imported again
    checked = json.loads(local_system.cli("import", str(cards), "--source", "expo-list", "--dry-run", "--json").stdout)
    first = local_system.cli("import", str(cards), "--source", "expo-list", "--consent-basis", "名刺交換時に同意",
                             "--json")
    again = local_system.cli("import", str(cards), "--source", "expo-list", "--consent-basis", "名刺交換時に同意",
                             "--json")

    # Then the summary counts every row, and the re-run stores nothing new
    assert checked == {"rows": 4, "encoding": "cp932", "to_import": 2, "duplicates_in_file": 1,
                       "rejected": [{"row": 5, "reasons": ["email: is required"]}]}
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) | {"rejected": []} == checked | {
        "rejected": [], "created": 2, "updated": 0, "unchanged": 0, "failed": []}
    assert json.loads(again.stdout)["unchanged"] == 2

    # And the export lists them for Excel (UTF-8 with BOM), with consent and source
    exported = local_system.cli("export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("\ufeff")
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(exported.stdout.lstrip("\ufeff")))}
    kimura = rows["kimura@list.example.co.jp"]
    assert kimura["name"] == "木村 拓也" and kimura["phone"] == "03-1111-2222" and kimura["title"] == "部長"
    assert kimura["consent"] == "granted" and kimura["source"] == "expo-list" and kimura["rank"] in "ABC"
    assert rows["nakamura@list.example.jp"]["department"] == "営業部"  # filled in from the later row


def test_an_export_to_a_file_can_be_limited_to_one_rank(local_system: RunningSystem, tmp_path: Path):
    local_system.submit("/v1/forms/demo", {"email": "hot-export@example.co.jp", "name": "部長", "company": "大手",
                                           "phone": "03-0000-0000", "title": "部長", "consent": True})
    target = tmp_path / "a.jsonl"
    deadline = time.monotonic() + 20
    while True:  # the demo request's points arrive when the stream consumer has scored it
        done = local_system.cli("export", "--rank", "A", "--format", "jsonl", "--output", str(target))
        assert done.returncode == 0, done.stderr
        leads = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
        if "hot-export@example.co.jp" in {lead["email"] for lead in leads} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "hot-export@example.co.jp" in {lead["email"] for lead in leads}
    assert {lead["rank"] for lead in leads} == {"A"}


def test_debug_logs_each_aws_call_of_an_export_but_nothing_of_the_leads_it_read(local_system: RunningSystem,
                                                                                 tmp_path: Path):
    local_system.submit("/v1/forms/demo", {"email": "debug-export@example.co.jp", "name": "山田太郎",
                                           "company": "デバッグ商事", "phone": "03-1111-2222", "consent": True})
    target = tmp_path / "leads.jsonl"
    done = local_system.cli("--debug", "export", "--format", "jsonl", "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert "debug-export@example.co.jp" in target.read_text(encoding="utf-8")
    assert "Making request for OperationModel(name=" in done.stderr  # each call, by its operation
    assert not [said for said in ("debug-export", "山田太郎", "デバッグ商事", "03-1111-2222") if said in done.stderr]


def test_the_report_counts_todays_forms_and_handoffs_and_writes_an_offline_html_file(local_system: RunningSystem,
                                                                                     tmp_path: Path):
    # Given a demo request, which makes a hot lead at once
    local_system.post_json("/v1/forms/demo", {"email": "report-hot@example.co.jp", "name": "部長", "company": "大手",
                                              "phone": "03-0000-0000", "title": "部長", "consent": True})
    page = tmp_path / "kpi.html"
    deadline = time.monotonic() + 20
    while True:  # the handoff exists once the stream consumer has scored the lead
        done = local_system.cli("report", "--json", "--html", str(page))
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        if report["handoffs"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    # Then this week shows the form and the handoff, and the leads are counted
    this_week = report["weekly"][-1]
    assert this_week["forms"] >= 1 and this_week["handoffs"] >= 1
    assert report["leads"]["new_in_period"] >= 1 and report["leads"]["by_stage"].get("handed_off", 0) >= 1
    # The shipped newsletters leave no month of 2027 in the coming year without an email.
    plan = report["touchpoint_plan"]
    assert len(plan["months"]) == 12 and not [m for m in plan["months_without_any_email"] if m.startswith("2027")]
    assert report["campaigns"] == []
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "<script" not in html and "Nurture KPI report" in html
    assert "<h2>Campaigns</h2>" in html and "No campaign was sent in this period." in html

    # And the plain report reads in a terminal; a period that ends before it starts is refused
    text = local_system.cli("report")
    assert text.returncode == 0 and "hot leads handed off:" in text.stdout and "touchpoint plan" in text.stdout
    assert "sending: OK" in text.stdout and report["deliverability"]["state"] == "ok"
    refused = local_system.cli("report", "--from", "2026-12-01", "--to", "2026-11-01")
    assert refused.returncode == 2 and "ends (2026-11-01) before it starts (2026-12-01)" in refused.stderr


def test_a_csv_export_opens_formulas_typed_into_a_form_as_text_and_jsonl_keeps_them_exact(
        local_system: RunningSystem, tmp_path: Path):
    typed = {"company": "@SUM(1+1)*cmd|' /C calc'!A0", "title": "-2+3+cmd|' /C calc'!A0", "department": "=1+1"}
    local_system.submit("/v1/forms/contact", {"email": "formula.test@gmail.com", "name": "数式 太郎",
                                              "consent": True, **typed})
    exported = local_system.cli("export", "--format", "csv")
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(exported.stdout.lstrip("\ufeff")))}
    row = rows["formula.test@gmail.com"]
    assert {name: row[name] for name in typed} == {name: "'" + value for name, value in typed.items()}
    assert row["fit"] == "-15"  # a number stays a number, negative too (a free-mail address)
    target = tmp_path / "all.jsonl"
    assert local_system.cli("export", "--format", "jsonl", "--output", str(target)).returncode == 0
    (lead,) = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()
               if json.loads(line)["email"] == "formula.test@gmail.com"]
    assert {name: lead[name] for name in typed} == typed


def test_a_trade_show_visitor_list_and_a_meeting_are_recorded_on_the_lead_and_scored(local_system: RunningSystem,
                                                                                     tmp_path: Path):
    # Given a lead, and the list of the booth's visitors in Shift_JIS, with one address that is no lead's
    lead_id = local_system.submit("/v1/forms/contact", {"email": "booth@visitor.example.co.jp", "name": "来場 花子",
                                                        "company": "来場工業", "consent": True})
    visitors = tmp_path / "visitors.csv"
    visitors.write_bytes(("メールアドレス,会社名,メモ\n"
                          "booth@visitor.example.co.jp,来場工業,デモを見た\n"
                          "nobody@visitor.example.co.jp,どこか,\n").encode("cp932"))
    show_day = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y/%m/%d 10:00")
    options = ("--type", "booth_visit", "--at", show_day, "--by", "展示会チーム", "--json")

    # When the list is imported twice, and sales record a meeting through the API
    first = local_system.cli("activity", "import", str(visitors), *options)
    again = local_system.cli("activity", "import", str(visitors), *options)
    meeting = local_system.post_json(f"/v1/leads/{lead_id}/activities",
                                     {"id": "crm-77", "type": "meeting", "by": "鈴木", "note": "見積もり依頼"})

    # Then the visit is recorded once, the stranger counted, and both are scored by their rules
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"rows": 2, "encoding": "cp932", "ignored_columns": ["会社名"], "to_record": 2,
                                        "rejected": [], "recorded": 1, "unchanged": 0, "not_leads": [3],
                                        "failed": []}
    assert json.loads(again.stdout)["unchanged"] == 1 and json.loads(again.stdout)["recorded"] == 0
    assert meeting.status == 201, meeting.body
    kinds = sorted(e["name"] for e in local_system.events(f"LEAD#{lead_id}") if e["type"] == "offline")
    assert kinds == ["booth_visit", "meeting"]
    scored = wait_for(lambda: {e["rule_id"] for e in local_system.items(f"LEAD#{lead_id}", "SCORE#")}
                      >= {"booth_visit", "offline_meeting"}, seconds=30)
    assert scored


def test_accounts_show_finds_a_companys_account_by_one_of_its_people(local_system: RunningSystem):
    first = local_system.submit("/v1/forms/contact", {
        "email": "kimura@account.example.co.jp", "name": "木村", "company": "株式会社アカウント", "title": "部長",
        "consent": True})
    second = local_system.submit("/v1/forms/contact", {
        "email": "ito@account.example.co.jp", "name": "伊藤", "company": "アカウント（株）", "title": "担当",
        "consent": True})
    wait_for(lambda: all(local_system.items(f"LEAD#{lead}", "PROFILE")[0].get("account") for lead in (first, second)),
             seconds=30)

    shown = local_system.cli("accounts", "show", "kimura@account.example.co.jp", "--json")

    assert shown.returncode == 0, shown.stderr
    account = json.loads(shown.stdout)
    assert {person["lead_id"] for person in account["people"]} == {first, second}
    assert account["buying_group"]["roles"]["manager"] == 1 and account["domains"] == ["account.example.co.jp"]
    text = local_system.cli("accounts", "show", account["account_id"])
    assert text.returncode == 0 and "2 people" in text.stdout
    assert local_system.cli("accounts", "show", "nobody@example.co.jp").returncode == 1

    def listed() -> dict | None:  # the standing is stored as each person's first activity of the day is scored
        answers = [local_system.cli("accounts", "list", "--rank", rank, "--json") for rank in "ABC"]
        assert all(answer.returncode == 0 for answer in answers), [answer.stderr for answer in answers]
        found = [a for answer in answers for a in json.loads(answer.stdout) if a["account_id"] == account["account_id"]]
        return found[0] if found and found[0]["people"] == 2 else None

    standing = wait_for(listed, seconds=30)
    assert (standing["rank"], standing["buying_group"]) == (account["rank"], account["buying_group"])
    table = local_system.cli("accounts", "list", "--rank", account["rank"])
    assert table.returncode == 0 and account["account_id"] in table.stdout and "2 people" in table.stdout


def test_accounts_merge_moves_a_subsidiarys_people_into_its_parents_account_and_its_page_follows(
        local_system: RunningSystem):
    named = local_system.submit("/v1/forms/contact", {
        "email": "mori@merge.example.co.jp", "name": "森", "company": "マージ工業株式会社", "consent": True})
    by_domain = local_system.submit("/v1/forms/contact", {
        "email": "abe@merge-logi.example.jp", "name": "阿部", "company": "マージ物流株式会社", "consent": True})
    wait_for(lambda: all(local_system.items(f"LEAD#{lead}", "PROFILE")[0].get("account")
                         for lead in (named, by_domain)), seconds=30)
    shown = {lead: json.loads(local_system.cli("accounts", "show", lead, "--json").stdout)["account_id"]
             for lead in (named, by_domain)}
    assert shown[named] != shown[by_domain]

    merged = local_system.cli("accounts", "merge", shown[by_domain], shown[named])

    assert merged.returncode == 0, merged.stderr
    assert "1 people moved" in merged.stdout
    page = json.loads(local_system.cli("accounts", "show", shown[by_domain], "--json").stdout)
    assert page["account_id"] == shown[named] and page["merged_from"] == shown[by_domain]
    assert {person["lead_id"] for person in page["people"]} == {named, by_domain}
    split = json.loads(local_system.cli("accounts", "split", shown[by_domain], "--json").stdout)
    assert (split["split"], split["from"], split["moved"], split["more"]) == (shown[by_domain], shown[named], 1, False)
