"""The web side in a real browser: the snippet, the forms with and without JavaScript, step emails' links."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import history
from tests.local_system import RunningSystem, wait_for

pytestmark = pytest.mark.e2e
VISITOR_COOKIE = "nurture_vid"


def nav(page: Page, name: str) -> None:
    """Follow a link of the site's navigation; back once the new page's scripts have run."""
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state("load")


def address(name: str) -> str:
    return f"{name}-{uuid4().hex[:8]}@example.co.jp"


def test_an_anonymous_visitors_pages_and_download_join_the_lead_when_they_fill_in_the_whitepaper_form(
        visit, site: RunningSystem):
    # Given a visitor who accepts cookies and browses three pages, downloading the brochure on the way
    visitor = visit()
    page = visitor.page
    page.goto("/demo/")
    page.get_by_role("button", name="同意する").click()
    nav(page, "製品")
    with page.expect_download() as download:
        page.get_by_role("link", name="製品カタログ（PDF）をダウンロード").click()
    assert download.value.suggested_filename == "miraistock-brochure.pdf"
    nav(page, "料金")
    vid = visitor.cookie(VISITOR_COOKIE)
    assert vid and re.fullmatch(r"[A-Za-z0-9_-]{22}", vid)
    wait_for(lambda: len(history_of_visitor(site, vid)) >= 4)

    # When they download the whitepaper through its form
    nav(page, "資料ダウンロード")
    email = address("whitepaper")
    site.personal.add("山田 太郎")  # typed into the form: never to be logged
    page.get_by_label("お名前").fill("山田 太郎")
    page.get_by_label("会社名").fill("株式会社サンプル精機")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("個人情報の取り扱いに同意する").check()
    page.get_by_role("button", name="ダウンロードする").click()

    # Then the thank-you page shows, and the lead holds the visitor's history, scored
    page.wait_for_url("**/v1/forms/whitepaper/thanks?back=*")  # the snippet gave the form its page
    assert page.get_by_role("heading", level=1).inner_text() == "送信が完了しました"
    lead_id = wait_for(lambda: site.lead_id(email))
    events = wait_for(lambda: _at_least(6, history(site, lead_id)))
    kinds = sorted(event["type"] for event in events)
    assert kinds.count("page_view") >= 4 and "download" in kinds and "form_submit" in kinds
    (download_event,) = [event for event in events if event["type"] == "download"]
    assert download_event["url"].endswith("/demo/assets/miraistock-brochure.pdf")
    ledger = wait_for(lambda: {entry["rule_id"] for entry in site.items(f"LEAD#{lead_id}", "SCORE#")}
                      >= {"document_download", "pricing_view", "whitepaper_download"})
    assert ledger
    # And the thank-you page hands out the whitepaper itself
    with page.expect_download() as whitepaper:
        page.get_by_role("link", name="資料をダウンロードする").click()
    assert whitepaper.value.suggested_filename == "whitepaper-lead-nurturing-101.pdf"
    page.get_by_role("link", name="前のページに戻る").click()  # back to the form's own page
    page.wait_for_url("**/demo/whitepaper.html")
    assert visitor.errors == []


def test_the_thank_you_page_appears_after_a_plain_html_post_without_javascript(visit, site: RunningSystem):
    page = visit(java_script_enabled=False).page
    page.goto("/demo/seminar.html")
    email = address("nojs")
    site.personal.add("佐藤 花子")  # typed into the form: never to be logged
    page.get_by_label("お名前").fill("佐藤 花子")
    page.get_by_label("会社名").fill("株式会社サンプル")
    page.get_by_label("役職").fill("部長")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("参加セッション").select_option("2026-12-17")
    page.get_by_label("個人情報の取り扱いに同意する").check()
    page.get_by_role("button", name="申し込む").click()

    page.wait_for_url("**/v1/forms/seminar/thanks")
    assert page.get_by_role("heading", level=1).inner_text() == "送信が完了しました"
    assert "セミナーへのお申し込みありがとうございます" in page.locator("main").inner_text()
    lead_id = wait_for(lambda: site.lead_id(email))
    (submitted,) = [event for event in history(site, lead_id) if event["type"] == "form_submit"]
    assert submitted["fields"]["session"] == "2026-12-17"
    assert "vid" not in submitted  # no snippet ran: no visitor id
    # And its back link, a plain link, returns to the form's page without any script
    page.get_by_role("link", name="前のページに戻る").click()
    page.wait_for_url("**/demo/seminar.html")


def test_a_form_without_an_email_shows_the_error_page(visit, site: RunningSystem):
    visitor = visit()
    page = visitor.page
    page.goto("/demo/contact.html")
    page.get_by_role("button", name="同意しない").click()
    page.eval_on_selector("form", "form => form.noValidate = true")  # past the browser's own check
    site.personal.add("鈴木 一郎")  # typed into the form: never to be logged
    page.get_by_label("お名前").fill("鈴木 一郎")
    page.get_by_label("会社名").fill("株式会社サンプル")
    page.get_by_label("個人情報の取り扱いに同意する").check()
    page.get_by_role("button", name="送信する").click()

    page.wait_for_load_state()
    assert page.url.endswith("/v1/forms/contact")
    assert page.locator("li").filter(has_text="メールアドレス").count() == 1


def history_of_visitor(site: RunningSystem, vid: str | None) -> list:
    return site.events(f"VISITOR#{vid}")


def _at_least(count: int, found: list) -> list | None:
    return found if len(found) >= count else None


def _emailed_lead(site: RunningSystem, name: str) -> tuple[str, str]:
    """A lead whose first step email is in the outbox: (lead id, the email's outbox number). Each of its own
    company: three people of one company sending forms make a hot account, whose step emails stop."""
    email = address(name)
    lead_id = site.submit("/v1/forms/contact", {"email": email, "name": "高橋 健", "company": f"株式会社{name}",
                                                "consent": True})
    listed = wait_for(lambda: re.findall(r"href='/_outbox/(\d+)'>[^<]*</a></td><td>" + re.escape(email),
                                         site.request("GET", "/_outbox").body.decode()))
    return lead_id, listed[0]


def test_a_link_clicked_in_an_email_is_recorded_and_lands_on_its_target(visit, site: RunningSystem):
    lead_id, number = _emailed_lead(site, "clicker")
    visitor = visit()
    page = visitor.page
    # The link targets are the marketer's site, out of this machine's reach: the browser is answered here.
    page.context.route("https://www.example.co.jp/**", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8",
        body="<!doctype html><html lang='ja'><title>記事</title><h1>リードナーチャリング入門</h1></html>"))
    page.goto(f"/_outbox/{number}")
    page.get_by_role("link", name="記事を読む").click()

    page.wait_for_url("https://www.example.co.jp/blog/lead-nurturing-101")
    assert page.get_by_role("heading").inner_text() == "リードナーチャリング入門"
    clicks = wait_for(lambda: [e for e in history(site, lead_id) if e["type"] == "email_click"], seconds=15)
    assert clicks[0]["url"] == "https://www.example.co.jp/blog/lead-nurturing-101"
    assert visitor.errors == []


def test_the_unsubscribe_link_opens_the_preference_page_whose_choices_are_kept_and_everything_can_be_left(
        visit, site: RunningSystem):
    lead_id, number = _emailed_lead(site, "leaver")
    visitor = visit()
    page = visitor.page
    page.goto(f"/_outbox/{number}")
    page.locator("a[href*='/v1/unsubscribe/']").first.click()

    page.wait_for_url("**/v1/unsubscribe/**")
    preferences = page.url
    page.get_by_role("heading", name="配信設定").wait_for()
    assert "subscriptions" not in site.items(f"LEAD#{lead_id}", "PROFILE")[0]  # a GET never changes anything
    # By keyboard: every box is labelled, and the form needs no JavaScript.
    page.get_by_label("ご登録後のご案内メール").focus()
    page.keyboard.press("Space")
    visitor.screenshot("preference-page")
    page.get_by_role("button", name="設定を保存する").click()
    page.get_by_text("設定を保存しました。").wait_for()
    assert not page.get_by_label("ご登録後のご案内メール").is_checked()
    assert page.get_by_label("メールマガジン").is_checked()
    lead = site.items(f"LEAD#{lead_id}", "PROFILE")[0]
    assert (lead["status"], lead["subscriptions"]["step_emails"]["choice"]) == ("active", "out")

    page.goto(preferences)
    page.get_by_role("button", name="すべて停止する").click()
    page.get_by_role("heading", name="配信を停止しました / Unsubscribed").wait_for()
    assert site.items(f"LEAD#{lead_id}", "PROFILE")[0]["status"] == "unsubscribed"


def test_a_double_opt_in_sign_up_is_confirmed_only_by_the_button_of_its_emails_page(visit, site: RunningSystem):
    visitor = visit(java_script_enabled=False)  # the sign-up and the confirmation need no script
    page = visitor.page
    page.goto("/demo/newsletter.html")
    email = address("optin")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("個人情報の取り扱いに同意する").check()
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url("**/v1/forms/newsletter/thanks")
    assert "確認メールをお送りしました" in page.locator("main").inner_text()
    lead_id = wait_for(lambda: site.lead_id(email))
    (number,) = wait_for(lambda: re.findall(r"href='/_outbox/(\d+)'>[^<]*</a></td><td>" + re.escape(email),
                                            site.request("GET", "/_outbox").body.decode()))

    page.goto(f"/_outbox/{number}")
    page.get_by_role("link", name="登録を確定する").click()
    page.wait_for_url("**/v1/confirm/**")
    page.get_by_role("heading", name="ご登録の確定").wait_for()
    assert "double_opt_in" in site.items(f"LEAD#{lead_id}", "PROFILE")[0]  # opening the link confirms nothing
    visitor.screenshot("confirmation-page")
    page.get_by_role("button", name="登録を確定する").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="ご登録が確定しました").wait_for()
    lead = site.items(f"LEAD#{lead_id}", "PROFILE")[0]
    assert "double_opt_in" not in lead and lead["consent"]["confirmed_at"]
    assert wait_for(lambda: "sequence" in site.items(f"LEAD#{lead_id}", "PROFILE")[0])  # scored, then enrolled


def stored_visitor_id(page: Page) -> str | None:
    return page.evaluate("localStorage.getItem('nurture_vid')")


def test_nothing_is_stored_or_sent_before_consent_and_a_declined_visitor_stays_anonymous(visit):
    visitor = visit()
    page = visitor.page
    page.goto("/demo/")
    assert page.evaluate("typeof window.Nurture.consent") == "function"  # the snippet is there, and waits
    nav(page, "料金")
    page.evaluate("history.replaceState({}, '', location.pathname + '?utm_source=ad')")  # a router, before consent
    assert visitor.cookie(VISITOR_COOKIE) is None and stored_visitor_id(page) is None and visitor.beacons == []
    nav(page, "お問い合わせ")
    assert page.locator("form input[name=vid], form input[name=page]").count() == 0
    page.get_by_role("button", name="同意しない").click()
    nav(page, "導入事例")
    assert page.locator("#consent").is_hidden()  # the answer is remembered
    assert visitor.cookie(VISITOR_COOKIE) is None and stored_visitor_id(page) is None and visitor.beacons == []


def test_consent_counts_the_page_it_is_given_on_and_withdrawing_forgets_the_visitor(visit):
    visitor = visit()
    page = visitor.page
    page.goto("/demo/contact.html")
    page.evaluate("history.replaceState({}, '', location.pathname + '?utm_source=mail')")
    page.get_by_role("button", name="同意する").click()
    vid = visitor.cookie(VISITOR_COOKIE)
    assert vid and stored_visitor_id(page) == vid
    # The landing page, once, within the snippet's 3 s (Playwright reports requests while it waits)
    wait_for(lambda: page.wait_for_timeout(300) or len(visitor.beacons) == 1, seconds=10)
    assert page.locator("input[name=vid]").input_value() == vid
    assert page.locator("input[name=utm_source]").input_value() == "mail"

    # The visitor withdraws in the site's privacy settings: the site records it and tells the snippet.
    page.evaluate("localStorage.setItem('miraistock-consent', 'declined'); Nurture.consent(false)")
    assert visitor.cookie(VISITOR_COOKIE) is None and stored_visitor_id(page) is None
    assert visitor.cookie("nurture_optout") == "1"
    assert page.locator("form input[name=vid], form input[name=utm_source]").count() == 0
    nav(page, "料金")
    assert visitor.cookie(VISITOR_COOKIE) is None and len(visitor.beacons) == 1


def test_a_consent_given_before_the_snippet_loads_is_kept_and_honoured(visit, site: RunningSystem):
    # A consent tool or tag manager answering before the deferred snippet has loaded, through the documented stub
    visitor = visit()
    visitor.page.add_init_script("window.Nurture = window.Nurture || function () {"
                                 " (window.Nurture.q = window.Nurture.q || []).push(arguments); };"
                                 " Nurture('consent', true); Nurture('track', 'consent_banner_skipped');")
    page = visitor.page
    page.goto("/demo/pricing.html")  # requires consent: nothing would be sent without the queued call

    vid = wait_for(lambda: visitor.cookie(VISITOR_COOKIE))
    events = wait_for(lambda: page.wait_for_timeout(300) or _at_least(2, history_of_visitor(site, vid)), seconds=10)
    assert sorted(event["type"] for event in events) == ["custom", "page_view"]
    assert page.evaluate("typeof Nurture.track") == "function" and visitor.errors == []


@pytest.mark.parametrize("signal", ["navigator.doNotTrack = '1'", "navigator.globalPrivacyControl = true"])
def test_do_not_track_and_global_privacy_control_are_honoured_even_after_consent(visit, signal):
    visitor = visit()
    prop, value = signal.removeprefix("navigator.").split(" = ")
    visitor.page.add_init_script(f"Object.defineProperty(Navigator.prototype, '{prop}', {{get: () => {value}}})")
    visitor.page.goto("/demo/en/")
    assert visitor.page.evaluate("typeof window.Nurture.consent") == "function"
    visitor.page.get_by_role("button", name="Accept").click()
    nav(visitor.page, "Pricing")
    assert visitor.cookie(VISITOR_COOKIE) is None and visitor.beacons == []


def test_without_do_not_track_the_same_steps_are_tracked(visit, site: RunningSystem):
    visitor = visit()
    visitor.page.goto("/demo/en/")
    visitor.page.get_by_role("button", name="Accept").click()
    nav(visitor.page, "Pricing")
    # The home page's view leaves as the page is left, the pricing page's within the snippet's 3 s
    vid = visitor.cookie(VISITOR_COOKIE)
    views = wait_for(lambda: _at_least(2, history_of_visitor(site, vid)), seconds=10)
    assert [view["url"].split("/demo")[1] for view in views] == ["/en/", "/en/pricing.html"]


def test_single_page_app_navigation_sends_a_page_view_per_url(visit, site: RunningSystem):
    visitor = visit()
    page = visitor.page
    page.goto("/demo/en/")
    page.get_by_role("button", name="Accept").click()
    page.evaluate("history.pushState({}, '', '/demo/en/pricing.html?tab=annual')")
    page.evaluate("history.replaceState({}, '', '/demo/en/pricing.html?tab=annual')")  # same URL: no view
    vid = visitor.cookie(VISITOR_COOKIE)
    page.evaluate("location.hash = '#plans'")  # an anchor jump is no new page
    page.evaluate("history.go(-2)")  # back past the anchor and the pricing view, to /demo/en/: a page again
    wait_for(lambda: _at_least(3, history_of_visitor(site, vid)), seconds=10)
    page.wait_for_timeout(1000)  # anything more would have arrived by now (and Playwright saw the requests)
    views = history_of_visitor(site, vid)
    # One request carried the three, in the order they happened
    assert len(visitor.beacons) == 1
    pages = [(view["type"], view["url"].split("/demo")[1]) for view in views]
    assert pages == [("page_view", "/en/"), ("page_view", "/en/pricing.html?tab=annual"), ("page_view", "/en/")]
    (pricing,) = [view for view in views if "pricing" in view["url"]]
    assert pricing["referrer"].endswith("/demo/en/")


def test_no_page_prints_an_error_with_or_without_the_api(visit, site: RunningSystem):
    pages = sorted(re.findall(r'href="(/demo/[^"]*)"', site.request("GET", "/demo/").body.decode())
                   + re.findall(r'href="(/demo/en/[^"]*)"', site.request("GET", "/demo/en/").body.decode()))
    for api_reachable in (True, False):
        visitor = visit()
        if not api_reachable:
            visitor.context.route("**/v1/events", lambda route: route.abort("connectionrefused"))
        visitor.page.goto("/demo/")
        visitor.page.get_by_role("button", name="同意する").click()
        for path in dict.fromkeys(pages):
            visitor.page.goto(path)
        # Each page's view left as the next page loaded; the last one's leaves within the snippet's 3 s. The wait
        # is Playwright's own: it reports what the page prints only while it runs.
        visitor.page.wait_for_timeout(3500)
        # Chromium itself logs each refused connection, as it does for any request; the page cannot
        # silence that line. Anything else (an exception, the snippet's own output) is a failure.
        refused = f"error: Failed to load resource: net::ERR_CONNECTION_REFUSED ({site.base_url}/v1/events)"
        assert [error for error in visitor.errors if error != refused] == [], f"API reachable: {api_reachable}"
        if api_reachable:  # every page's view arrived: the consent page's, then one per page visited
            vid = visitor.cookie(VISITOR_COOKIE)
            viewed = 1 + sum(path.endswith((".html", "/")) for path in set(pages))  # not the style sheet
            assert wait_for(lambda vid=vid, viewed=viewed: len(history_of_visitor(site, vid)) == viewed, seconds=10)
