"""The marketer's console in a real browser: sign in as each group, find a lead from the demo site, read its
timeline and score chart, and no serious or critical accessibility violation on any page (axe-core)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from nurture.config import load_config
from nurture.domain.campaigns.calendar import build_calendar
from nurture.domain.console.access import Group
from nurture.local.cognito import LOCAL_PASSWORD, USERS
from tests.e2e.conftest import ARTIFACTS
from tests.local_system import REPO, RunningSystem, wait_for

pytestmark = pytest.mark.e2e
AXE = (REPO / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


# Injected by the browser's own protocol, which the page's Content-Security-Policy does not govern (an inline
# script tag would be refused, as it should be); it also records each violation of that policy.
CHECKS = AXE + """
document.addEventListener("securitypolicyviolation",
    (e) => (window.cspViolations = window.cspViolations || []).push(e.violatedDirective + " " + e.blockedURI));
"""


def console_page(browser: Browser, site: RunningSystem, locale: str) -> Page:
    context = browser.new_context(base_url=site.base_url, locale=locale)
    context.add_init_script(CHECKS)
    page = context.new_page()
    answer = page.goto("/console/")
    assert answer is not None and "script-src 'self';" in answer.headers["content-security-policy"]
    return page


def signed_in(browser: Browser, site: RunningSystem, group: Group, locale: str = "ja-JP") -> Page:
    page = console_page(browser, site, locale)
    page.fill("input[name=email]", USERS[group])
    page.fill("input[name=password]", LOCAL_PASSWORD)
    page.click("form#sign-in button[type=submit]")
    expect(page.locator("#user")).to_contain_text(group)
    return page


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings, and anything the Content-Security-Policy refused."""
    assert page.evaluate("window.cspViolations || []") == []
    found: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations"
                                                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))")
    return [violation for violation in found if violation["impact"] in ("serious", "critical")]


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def a_hot_lead_from_the_demo_site(site: RunningSystem) -> str:
    lead_id = site.submit("/v1/forms/demo", {
        "email": "e2e-console@big-e2e.example.co.jp", "name": "画面 確認", "company": "大手 E2E",
        "title": "部長", "phone": "03-1234-5678", "consent": True, "employees": "5000"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not site.items(f"LEAD#{lead_id}", "PROFILE")[0].get("rank"):
        time.sleep(0.3)
    return lead_id


def test_a_marketer_finds_a_lead_reads_its_score_chart_and_timeline_and_the_pages_are_accessible(
        browser: Browser, site: RunningSystem):
    lead_id = a_hot_lead_from_the_demo_site(site)
    rank = site.items(f"LEAD#{lead_id}", "PROFILE")[0]["rank"]
    # The same address from an unverified post: what it would change is proposed, not written.
    site.submit("/v1/forms/contact", {"email": "e2e-console@big-e2e.example.co.jp", "name": "画面 確認",
                                      "company": "大手 E2E", "title": "課長", "consent": True})
    # A purchase the shop sends: the lead is a customer now, and its page says what it bought
    bought = site.post_json("/v1/purchases", {"purchases": [{
        "order_id": "E2E-1", "email": "e2e-console@big-e2e.example.co.jp", "date": "2026-11-02", "amount": 120000,
        "product": "在庫分析ライセンス"}]})
    assert bought.status == 200, bought.body
    page = signed_in(browser, site, "marketer")

    page.select_option("#rank", rank)
    page.click(f"a[href='#/leads/{lead_id}']")

    expect(page.locator("#view h1")).to_have_text("画面 確認")
    expect(page.locator("svg.chart circle.step").first).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("form_submit")
    expect(page.locator("ol.timeline")).to_contain_text("purchase")
    proposed = page.locator("section.card:has(h2:text('確認待ちの変更（本人確認のないフォームから）')) li")
    expect(proposed.first).to_contain_text("title → 課長")
    customer = page.locator("section.card:has(h2:text('顧客（RFM・CPM）'))")
    expect(customer).to_contain_text("在庫分析ライセンス")
    expect(customer).to_contain_text("次に買われやすい商品")  # none yet: too few customers bought after it
    shot(page, "lead")
    assert serious_violations(page) == []
    page.on("dialog", lambda dialog: dialog.accept())
    owner = site.items(f"LEAD#{lead_id}", "PROFILE")[0]["owner"]
    page.select_option("#new-owner", "smith" if owner != "smith" else "tanaka")
    page.fill("form.reassign input[name=reason]", "担当替え（E2E）")
    page.get_by_role("button", name="担当を変更").click()  # recorded on the timeline, with who and why
    expect(page.locator("ol.timeline li").first).to_contain_text("owner_changed")
    page.goto("/console/#/leads")
    owner = site.items(f"LEAD#{lead_id}", "PROFILE")[0]["owner"]
    page.select_option("#owner", owner)  # the owner's leads, newest first, then of the lead's stage
    page.select_option("#stage", site.items(f"LEAD#{lead_id}", "PROFILE")[0]["stage"])
    expect(page.locator(f"a[href='#/leads/{lead_id}']")).to_have_count(1)
    page.fill("form[role=search] input[name=email]", "E2E-Console@big-e2e.example.co.jp")
    page.click("form[role=search] button")
    expect(page.locator(f"a[href='#/leads/{lead_id}']")).to_have_count(1)
    expect(page.locator("tbody tr")).to_have_count(1)
    shot(page, "leads")
    assert serious_violations(page) == []


def test_the_sign_in_page_refuses_a_wrong_password_and_is_accessible(browser: Browser, site: RunningSystem):
    page = console_page(browser, site, "en-US")
    page.fill("input[name=email]", USERS["admin"])
    page.fill("input[name=password]", "not-the-password")
    page.click("form#sign-in button[type=submit]")

    expect(page.locator("#sign-in-error")).to_have_text("Wrong email address or password.")
    shot(page, "sign-in")
    assert serious_violations(page) == []


@pytest.mark.parametrize("group", ["admin", "sales"])
def test_each_group_signs_in_and_sees_the_leads_it_may(browser: Browser, site: RunningSystem, group: Group):
    page = signed_in(browser, site, group)

    expect(page.locator("#view h1")).to_have_text("リード")
    page.click("#language")
    expect(page.locator("#view h1")).to_have_text("Leads")
    page.click("#sign-out")
    expect(page.locator("form#sign-in")).to_be_visible()


def test_a_marketer_schedules_cancels_and_tests_a_campaign_and_finds_each_change_on_the_home_page(
        browser: Browser, site: RunningSystem):
    page = signed_in(browser, site, "marketer", locale="en-US")  # English, from the browser's language
    page.on("dialog", lambda dialog: dialog.accept())  # each change is confirmed first
    page.click("nav a[href='#/campaigns']")
    draft = page.locator("tr[data-campaign]:has(button)").first  # the first still to go out
    campaign_id = draft.get_attribute("data-campaign")
    row = page.locator(f"tr[data-campaign='{campaign_id}']")

    row.get_by_role("button", name="Schedule").click()
    expect(row.locator("td.status")).to_have_text("Scheduled")
    shot(page, "campaigns")
    assert serious_violations(page) == []
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator("td.status")).to_have_text("Cancelled")
    expect(row.locator("button")).to_have_count(0)
    row.locator("a").click()  # its page: results, and the email as a sample lead would read it
    expect(page.locator("article.preview[lang=ja] pre")).to_contain_text("テスト")
    expect(page.locator("article.preview[lang=en] pre")).to_contain_text("Test")
    page.select_option("form.test-send select[name=language]", "en")
    page.click("form.test-send button")  # to the campaign's seed, through the sender: into the outbox
    expect(page.locator("form.test-send p[role=status]")).to_have_text("The test is on its way.")
    shot(page, "campaign")
    assert serious_violations(page) == []
    assert wait_for(lambda: "[TEST] " in site.request("GET", "/_outbox").body.decode(), seconds=30)

    page.click("nav a[href='#/home']")
    changes = page.locator("ul.changes li")  # newest first
    expect(changes.nth(0)).to_contain_text(f"marketer@nurture.example campaign.test {campaign_id}")
    expect(changes.nth(1)).to_contain_text(f"marketer@nurture.example campaign.cancel {campaign_id}")
    expect(changes.nth(2)).to_contain_text(f"marketer@nurture.example campaign.schedule {campaign_id}")
    expect(page.locator("dd.state-ok")).to_have_text("OK")
    expect(page.locator("table.kpis tbody tr").first).to_contain_text("New leads")
    expect(page.locator("svg.bars rect")).to_have_count(8)
    expect(page.locator("ol.funnel li")).to_have_count(4)
    expect(page.locator("ol.funnel li[data-stage=won]")).to_contain_text("Won")
    shot(page, "home")
    assert serious_violations(page) == []


def test_a_salesperson_is_offered_no_page_of_theirs_and_told_so_if_they_open_one(browser: Browser,
                                                                               site: RunningSystem):
    page = signed_in(browser, site, "sales")
    expect(page.locator("nav a[href='#/leads']")).to_be_visible()
    expect(page.locator("nav a[href='#/home']")).to_be_hidden()
    expect(page.locator("nav a[href='#/campaigns']")).to_be_hidden()
    page.goto("/console/#/home")

    expect(page.locator("#view p.error")).to_have_text("この操作は許可されていません。")


def test_an_admin_erases_a_lead_from_its_page_after_confirming_and_a_marketer_has_no_such_button(
        browser: Browser, site: RunningSystem):
    lead_id = site.submit("/v1/forms/demo", {
        "email": "e2e-erase@erase-e2e.example.co.jp", "name": "消去 対象", "company": "消去 E2E",
        "phone": "03-0000-0000", "consent": True})
    marketer = signed_in(browser, site, "marketer")
    marketer.goto(f"/console/#/leads/{lead_id}")
    expect(marketer.locator("#view h1")).to_have_text("消去 対象")
    expect(marketer.locator("p.danger button")).to_have_count(0)

    admin = signed_in(browser, site, "admin")
    admin.goto(f"/console/#/leads/{lead_id}")
    questions: list[str] = []
    admin.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    admin.click("p.danger button")  # asked, and declined: nothing happens
    expect(admin.locator("p.danger button")).to_be_enabled()
    assert questions and "元に戻せません" in questions[0]
    assert site.items(f"LEAD#{lead_id}", "PROFILE")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("p.danger button")

    expect(admin.locator("#view h1")).to_have_text("リード")
    assert site.items(f"LEAD#{lead_id}", "PROFILE") == []
    admin.goto("/console/#/home")
    expect(admin.locator("ul.changes li").first).to_contain_text(f"admin@nurture.example lead.erase {lead_id}")


def test_an_admin_changes_the_config_on_the_page_sees_it_used_then_reads_what_it_changed_and_rolls_it_back(
        browser: Browser, site: RunningSystem):
    page = signed_in(browser, site, "admin", locale="en-US")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("nav a[href='#/config']")
    expect(page.locator("dl dd").first).to_have_text("1")
    page.select_option("form.proposal select[name=file]", "segments.yaml")
    text = page.locator("form.proposal textarea")
    edited = text.input_value().replace("重点業種 (製造・情報通信・金融)", "重点業種（E2E）")
    text.fill(edited.replace("- segment: mailable", "- segment: no_such_segment", 1))  # a mistake first
    page.get_by_role("button", name="Check and show the diff").click()
    expect(page.locator("ul.problems li").first).to_contain_text("no_such_segment")
    expect(page.get_by_role("button", name="Publish as the next version")).to_be_hidden()
    text.fill(edited)
    expect(page.locator("ul.problems li")).to_have_count(0)
    page.get_by_role("button", name="Check and show the diff").click()
    expect(page.locator("#view p[role=status]").first).to_have_text("No problems found.")
    expect(page.locator("form.proposal pre.diff")).to_contain_text("+    description: 重点業種（E2E）")
    expect(page.locator("form.proposal pre.diff")).not_to_contain_text("no_such_segment")
    shot(page, "config")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Publish as the next version").click()
    expect(page.locator("#view p[role=status]").first).to_have_text("Published: version 2")
    expect(page.locator("dl dd").first).to_have_text("2")

    page.click("nav a[href='#/segments']")

    def segments_shown() -> str:  # the page as the console's function answers it now
        page.reload()
        return page.locator("#view tbody").inner_text()

    # Used once the function's cache of the active version's number is older than its age (2 s here).
    assert wait_for(lambda: "重点業種（E2E）" in segments_shown(), seconds=15, every=1)
    page.click("nav a[href='#/config']")
    page.locator("tr[data-version='2'] button").click()
    expect(page.locator("pre.diff").last).to_contain_text("+    description: 重点業種（E2E）")
    page.get_by_role("button", name="Roll back to the version before").click()
    expect(page.locator("dl dd").first).to_have_text("1")
    status = site.cli("config", "status")  # the deploy's version is active again
    assert status.returncode == 0 and "active version: 1 " in status.stdout


def test_a_marketer_counts_a_segment_previews_its_members_and_finds_a_lead_by_part_of_its_company(
        browser: Browser, site: RunningSystem):
    lead_id = a_hot_lead_from_the_demo_site(site)  # 5,000 employees: the enterprise segment
    page = signed_in(browser, site, "marketer", locale="en-US")
    page.click("nav a[href='#/segments']")
    page.locator("tr[data-segment=enterprise] button").click()  # a job the audience workers run

    expect(page.locator("#view p[role=status]")).to_contain_text("leads (profiles scanned:", timeout=30_000)
    expect(page.locator(f"#view a[href='#/leads/{lead_id}']")).to_have_count(1)
    shot(page, "segments")
    assert serious_violations(page) == []

    page.click("nav a[href='#/search']")  # the same lead by part of its company, typed full-width, and a filter
    page.fill("form[role=search] input[name=text]", "Ｅ２Ｅ")
    page.select_option("#found-rank", "A")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#view p[role=status]")).to_contain_text("leads found", timeout=30_000)
    expect(page.locator(f"#view a[href='#/leads/{lead_id}']")).to_have_count(1)
    page.select_option("#found-order", "last_activity_at")
    expect(page.locator(f"#view a[href='#/leads/{lead_id}']")).to_have_count(1)
    shot(page, "search")
    assert serious_violations(page) == []


def test_a_marketer_reads_each_sequence_as_its_steps_and_the_years_calendar_with_its_silent_months(
        browser: Browser, site: RunningSystem):
    config = load_config(REPO / "config")  # what the running system serves
    zone = ZoneInfo(config.sequences.send_window.timezone)
    page = signed_in(browser, site, "marketer", locale="en-US")
    page.click("nav a[href='#/sequences']")
    for sequence in config.sequences.sequences:
        steps = page.locator(f"section[data-sequence='{sequence.id}'] ol.flow li")
        expect(steps).to_have_count(len(sequence.steps))
        expect(steps.first.locator("dd.sent")).to_have_text(re.compile(r"^\d+$"))
    shot(page, "sequences")
    assert serious_violations(page) == []

    page.click("nav a[href='#/calendar']")
    this_year = datetime.now(zone).year
    expect(page.locator("#view h1")).to_have_text(f"Calendar {this_year}")
    expect(page.locator("table.calendar thead th")).to_have_count(12)
    page.get_by_role("button", name="Previous year").click()
    expect(page.locator("#view h1")).to_have_text(f"Calendar {this_year - 1}")
    shown = build_calendar(this_year - 1, config.sequences, config.segments, config.campaigns, zone)
    silent = sum(len(row["silent"]) for row in shown["ranks"] + shown["segments"])
    expect(page.locator("table.calendar td.silent")).to_have_count(silent)
    shot(page, "calendar")
    assert serious_violations(page) == []
