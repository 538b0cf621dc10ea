"""The KPI report: step emails as a cohort, people apart from machines, handoffs, feedback and the plan."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nurture.cli.report_html import render_html
from nurture.config import load_config
from nurture.config.records import validated
from nurture.config.sequences import Sequence
from nurture.domain.report import CONVERSION_DAYS, Period, Planned, build_report, touchpoint_plan
from tests.conftest import CONFIG_DIR, REPO

CONFIG = load_config(CONFIG_DIR)
TOKYO = ZoneInfo("Asia/Tokyo")
NOVEMBER = Period(date(2026, 11, 2), date(2026, 11, 15), TOKYO)  # two whole weeks, Monday to Sunday
SENT = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)  # Wednesday 10:00 in Tokyo
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def profile(lead_id: str, **extra: Any) -> dict[str, Any]:
    return {"PK": f"LEAD#{lead_id}", "SK": "PROFILE", "email": f"{lead_id}@example.co.jp", "stage": "nurturing",
            "status": "active", "created_at": "2026-11-03T00:00:00.000000Z", **extra}


def event(lead_id: str, kind: str, at: datetime, **data: Any) -> dict[str, Any]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"PK": f"LEAD#{lead_id}", "SK": f"EVT#{stamp}#{kind}{len(data)}", "type": kind, "occurred_at": stamp,
            **data}


def sent(lead_id: str, message: str, at: datetime = SENT, step: str = "know_how") -> dict[str, Any]:
    return event(lead_id, "email_sent", at, message_id=message, sequence="warm_nurture", step=step,
                 template=step)


def table() -> list[dict[str, Any]]:
    later = SENT + timedelta(hours=2)
    return [
        profile("reader"), profile("leaver"), profile("sleeper", sequence={"stopped": "sunset"}),
        # The reader: delivered, a privacy proxy opens it, the person clicks and fills in a form next day
        sent("reader", "m1"),
        event("reader", "email_delivered", SENT + timedelta(seconds=5), message_id="m1", source="ses"),
        event("reader", "email_open", SENT + timedelta(seconds=9), message_id="m1", bot=True, source="ses"),
        event("reader", "email_click", later, message_id="m1"),
        event("reader", "form_submit", later + timedelta(days=1), form_kind="download"),
        {"PK": "LEAD#reader", "SK": "HANDOFF#h1", "created_at": "2026-11-05T02:00:00.000000Z"},
        event("reader", "sales_feedback", SENT + timedelta(days=3), outcome="accepted"),
        # The leaver: delivered, a scanner clicks every link at once, the person unsubscribes
        sent("leaver", "m2"),
        event("leaver", "email_delivered", SENT + timedelta(seconds=5), message_id="m2", source="ses"),
        event("leaver", "email_click", SENT + timedelta(seconds=7), message_id="m2", bot=True),
        event("leaver", "unsubscribe", later, message_id="m2"),
        event("leaver", "sales_feedback", SENT + timedelta(days=3), outcome="rejected"),
        # The sleeper's email bounced; an email sent before the period is not this period's
        sent("sleeper", "m3", step="case_study"),
        event("sleeper", "email_bounced", SENT + timedelta(seconds=5), message_id="m3", source="ses"),
        sent("sleeper", "m0", at=datetime(2026, 10, 20, 1, 0, tzinfo=UTC)),
        event("sleeper", "email_delivered", datetime(2026, 10, 20, 1, 1, tzinfo=UTC), message_id="m0"),
    ]


def test_each_step_counts_its_emails_people_and_machines_apart():
    report = build_report(table(), NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    know_how, case_study = report["steps"]
    assert (know_how["sequence"], know_how["step"], case_study["step"]) == ("warm_nurture", "know_how", "case_study")
    assert {k: know_how[k] for k in ("sent", "delivered", "opened", "opened_bot", "clicked", "clicked_bot",
                                     "converted", "unsubscribed", "bounced")} == {
        "sent": 2, "delivered": 2, "opened": 1, "opened_bot": 1, "clicked": 1, "clicked_bot": 1, "converted": 1,
        "unsubscribed": 1, "bounced": 0}
    assert know_how["click_rate"] == 0.5 and know_how["conversion_rate"] == 0.5  # per delivered email
    assert know_how["unsubscribe_rate"] == 0.5 and know_how["rate_base"] == "delivered"
    assert case_study["bounce_rate"] == 1.0 and case_study["rate_base"] == "sent"  # nothing was delivered
    assert report["totals"]["sent"] == 3  # the October email is not this period's


def test_an_imported_list_is_neither_a_form_nor_a_conversion():
    items = [profile("listed"), sent("listed", "m8"), event("listed", "email_click", SENT, message_id="m8"),
             event("listed", "form_submit", SENT + timedelta(hours=1), form_kind="import")]
    report = build_report(items, NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    assert report["steps"][0]["converted"] == 0 and sum(week["forms"] for week in report["weekly"]) == 0


def test_a_form_long_after_the_click_is_no_conversion():
    items = [profile("slow"), sent("slow", "m9"), event("slow", "email_click", SENT, message_id="m9"),
             event("slow", "form_submit", SENT + timedelta(days=CONVERSION_DAYS + 1))]
    (row,) = build_report(items, NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)["steps"]
    assert row["clicked"] == 1 and row["converted"] == 0


def test_handoffs_forms_and_sends_are_counted_by_week_and_feedback_gives_the_acceptance_rate():
    report = build_report(table(), NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    first, second = report["weekly"]
    assert first == {"week": "2026-11-02", "sent": 3, "opened": 0, "clicked": 1, "forms": 1, "handoffs": 1}
    assert second["week"] == "2026-11-09" and sum(second[k] for k in second if k != "week") == 0
    assert report["handoffs"] == 1
    assert report["feedback"] == {"leads_with_feedback": 2, "accepted_leads": 1, "acceptance_rate": 0.5,
                                  "outcomes": {"accepted": 1, "rejected": 1}}


def test_leads_are_counted_by_rank_stage_and_status_with_the_dormant_apart():
    leads = build_report(table(), NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)["leads"]
    assert leads["total"] == 3 and leads["new_in_period"] == 3
    assert sum(leads["by_rank"].values()) == 3 and leads["by_stage"] == {"nurturing": 3}
    assert leads["dormant"] == 1 and leads["by_status"] == {"active": 2, "dormant": 1}


def test_the_touchpoint_plan_follows_a_silent_lead_of_each_rank_through_the_year():
    plan = touchpoint_plan(CONFIG.sequences, NOW, TOKYO)
    assert plan["months"][0] == "2026-11" and len(plan["months"]) == 12
    cold = next(p for p in plan["by_rank"] if p["rank"] == "C")
    assert [send["email"] for send in cold["sends"]] == ["know_how", "whitepaper_announcement", "product_news",
                                                         "reengagement_check", "reengagement_last"]
    hot = next(p for p in plan["by_rank"] if p["rank"] == "A")
    assert len(hot["sends"]) == 2  # sales owns a hot lead: it is never re-engaged
    # The shipped plan leaves most of the year quiet, which is what the check is for.
    assert "2027-10" in plan["months_without_any_email"] and "2026-11" not in plan["months_without_any_email"]
    b_and_c = [p for p in plan["by_rank"] if p["rank"] in "BC"]
    assert all("2027-02" not in p["months_without_email"] for p in b_and_c)  # re-engagement, 90 days on
    assert "2027-02" not in plan["months_without_any_email"] and "2027-01" not in plan["months_without_any_email"]


def test_with_the_shipped_newsletters_no_month_of_the_plan_is_quiet_for_any_rank():
    plan = touchpoint_plan(CONFIG.sequences, NOW, TOKYO, Planned(CONFIG.campaigns, CONFIG.segments))

    assert plan["months_without_any_email"] == []
    quiet = {rank["rank"]: rank["months_without_email"] for rank in plan["by_rank"]}
    assert quiet == {"A": ["2026-12"], "B": [], "C": []}  # the plan's newsletters start in January
    cold = next(p for p in plan["by_rank"] if p["rank"] == "C")
    assert {"at": "2027-01-13", "email": "campaign: newsletter-2027-01"} in cold["sends"]


def test_the_plan_sees_a_silent_lead_leave_a_long_sequence_for_re_engagement():
    monthly = validated(Sequence, {"id": "cold_nurture", "enroll": {"rank": ["C"]}, "steps": [
        {"id": f"month_{n}", "delay_days": 30, "template": f"letter_{n}"} for n in range(12)]})
    config = dataclasses.replace(CONFIG.sequences, sequences=[
        monthly if s.id == "cold_nurture" else s for s in CONFIG.sequences.sequences])
    cold = next(p for p in touchpoint_plan(config, NOW, TOKYO)["by_rank"] if p["rank"] == "C")
    emails = [send["email"] for send in cold["sends"]]
    # Silent for 90 days at the third letter: re-engagement takes over, then the sunset
    assert emails == ["letter_0", "letter_1", "letter_2", "reengagement_check", "reengagement_last"]


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends"):
        Period(date(2026, 11, 2), date(2026, 11, 1), TOKYO)


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.external += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_html_report_is_one_file_with_charts_that_needs_nothing_else(language):
    items = [*table(), sent("reader", "m<b>", step="<script>alert(1)</script>")]
    report = build_report(items, NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    html = render_html(report, CONVERSION_DAYS, language)
    parsed = _Resources()
    parsed.feed(html)
    assert parsed.external == [] and "script" not in parsed.tags and "link" not in parsed.tags
    assert parsed.tags.count("svg") == 2 and parsed.tags.count("rect") == 5 and parsed.tags.count("polyline") == 5
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # a step name is text, never markup
    quiet = report["touchpoint_plan"]["months_without_any_email"]
    assert quiet and f"<b>{', '.join(quiet)}</b>" in html  # the quiet months, named


def test_the_report_has_a_customer_section_from_stored_purchases_shown_in_html_and_text():
    from nurture.cli.report import _readable

    purchase = {"PK": "LEAD#buyer", "SK": "PURCHASE#A-1", "on": "2026-11-10", "amount": Decimal("120000"),
                "product": "製品"}
    revenue = {"PK": "REVENUE#2026-11", "SK": "SHARD#3", "orders": Decimal("2"), "revenue": Decimal("125000")}
    report = build_report([*table(), purchase, revenue], NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    customers = report["customers"]
    assert customers["customers"] == 1 and customers["migration"] == {"new": {"first_time": 1}}
    assert customers["monthly"] == [{"month": "2026-11", "orders": 2, "revenue": 125_000}]
    html = render_html(report, CONVERSION_DAYS)
    assert "Customers (RFM / CPM)" in html and "初回客 (first_time)" in html and "120,000" in html
    text = _readable(report | {"deliverability": {"state": "sending", "paused_at": None, "reason": None}})
    assert "初回客 (first_time): 0 -> 1, ¥120,000" in text and "moved new -> first_time: 1" in text
    quiet = build_report(table(), NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    assert "Customers (RFM" not in render_html(quiet, CONVERSION_DAYS)


def test_leaving_a_type_through_an_emails_link_counts_as_that_emails_unsubscribe_and_joining_does_not():
    later = SENT + timedelta(hours=2)
    rows = [profile("one_click"), profile("page"), profile("joiner"),
            sent("one_click", "m1"), event("one_click", "opt_out", later, message_id="m1", subscription_type="x"),
            sent("page", "m2"), event("page", "preferences", later, message_id="m2", left=["seminar"], joined=[]),
            sent("joiner", "m3"), event("joiner", "preferences", later, message_id="m3", left=[], joined=["seminar"])]
    (know_how,) = build_report(rows, NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)["steps"]
    assert (know_how["sent"], know_how["unsubscribed"]) == (3, 2)


def test_double_opt_in_counts_confirmations_sent_and_confirmed_per_form_and_what_was_removed_ever():
    later = SENT + timedelta(hours=2)
    rows = [profile("waiting"), profile("confirmed"),
            event("waiting", "email_sent", SENT, message_id="c1", confirmation="newsletter"),
            event("confirmed", "email_sent", SENT, message_id="c2", confirmation="newsletter"),
            event("confirmed", "subscription_confirmed", later, form_id="newsletter"),
            {"PK": "STATS#double_opt_in#newsletter", "SK": "SHARD#1", "step": "newsletter", "removed": 3},
            {"PK": "STATS#double_opt_in#newsletter", "SK": "SHARD#5", "step": "newsletter", "removed": 1}]
    report = build_report(rows, NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    assert report["double_opt_in"] == [{"form": "newsletter", "sent": 2, "confirmed": 1, "confirmation_rate": 0.5,
                                        "removed_unconfirmed": 4}]
    assert report["steps"] == [] and report["totals"]["sent"] == 0  # a confirmation is no marketing email
    assert report["leads"]["by_status"] == {"active": 2}


def test_the_html_report_speaks_its_reader_s_language():
    purchase = {"PK": "LEAD#buyer", "SK": "PURCHASE#A-1", "on": "2026-11-10", "amount": Decimal("120000"),
                "product": "製品"}
    report = build_report([*table(), purchase], NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW)
    japanese, english = render_html(report, CONVERSION_DAYS, "ja"), render_html(report, CONVERSION_DAYS, "en")
    assert '<html lang="ja">' in japanese and '<html lang="en">' in english
    for ja, en in (("週ごとの推移", "Weekly trends"), ("顧客（RFM / CPM）", "Customers (RFM / CPM)"),
                   (f"人のクリックから {CONVERSION_DAYS} 日以内", f"within {CONVERSION_DAYS} days of a person"),
                   ("開封率", "open rate"), ("接点計画", "Touchpoint plan")):
        assert ja in japanese and en not in japanese and en in english and ja not in english


def test_every_word_of_the_html_report_has_its_japanese():
    from nurture.cli.report_html import FUNNEL, RATES, TRENDS
    from nurture.cli.report_words import JAPANESE

    source = (REPO / "layers/nurture/python/nurture/cli/report.html.j2").read_text(encoding="utf-8")
    written = set(re.findall(r'_\("([^"]+)"', source))  # every word is written _("..."), keyword values apart
    named = {label for _, label in FUNNEL} | {name for name, _ in TRENDS} | {rate.replace("_", " ") for rate in RATES}
    assert len(written) > 60
    assert sorted((written | named) - set(JAPANESE)) == []
    assert sorted(set(JAPANESE) - written - named) == []  # no word left over from an older template
