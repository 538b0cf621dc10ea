"""The report's sales section: handoffs per owner and team, and how they were answered."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from nurture.config import load_config
from nurture.domain.report import Period, build_report
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), ZoneInfo("Asia/Tokyo"))
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def handoff(lead: str, at: str, owner: str, team: str | None = None) -> dict:
    return {"PK": f"LEAD#{lead}", "SK": f"HANDOFF#{lead}-{at}", "lead_id": lead, "handoff_id": f"{lead}-{at}",
            "created_at": at, "owner": {"id": owner, "kind": "person", "team": team, "strategy": "round_robin",
                                        "reason": "r"}}


def verdict(lead: str, at: str, outcome: str, reason: str | None = None) -> dict:
    return {"PK": f"LEAD#{lead}", "SK": f"EVT#{at}#v", "type": "sales_feedback", "occurred_at": at,
            "outcome": outcome, "reason": reason}


def test_each_owner_and_team_shows_handoffs_acceptance_time_to_verdict_overdue_and_results():
    items = [
        handoff("a", "2026-11-02T01:00:00.000000Z", "ito", "west"),
        verdict("a", "2026-11-02T03:00:00.000000Z", "accepted"),
        verdict("a", "2026-11-20T03:00:00.000000Z", "won", "予算確保"),
        handoff("b", "2026-11-03T01:00:00.000000Z", "ito", "west"),
        verdict("b", "2026-11-03T05:00:00.000000Z", "rejected", "競合導入済み"),
        handoff("c", "2026-11-24T01:00:00.000000Z", "sato", "west"),  # no verdict, past its 24 business hours
        handoff("d", "2026-10-30T01:00:00.000000Z", "sato", "west"),  # before the period: not counted
        verdict("d", "2026-11-02T01:00:00.000000Z", "lost"),
        # a lead handed off again after a recycle: the second handoff's verdict is its own
        handoff("e", "2026-11-05T01:00:00.000000Z", "suzuki", "east"),
        verdict("e", "2026-11-05T02:00:00.000000Z", "recycle", "時期尚早"),
        handoff("e", "2026-11-25T01:00:00.000000Z", "suzuki", "east"),
        verdict("e", "2026-11-25T09:00:00.000000Z", "accepted"),
    ]
    sales = build_report(items, NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW, sales=CONFIG.sales)["sales"]

    owners = {row["owner"]: row for row in sales["owners"]}
    assert owners["ito"] == {"owner": "ito", "name": "伊藤 美咲", "handoffs": 2, "with_verdict": 2, "accepted": 1,
                                  "acceptance_rate": 0.5, "median_hours_to_verdict": 3.0, "overdue": 0, "won": 1,
                                  "lost": 0}
    assert (owners["sato"]["handoffs"], owners["sato"]["overdue"], owners["sato"]["with_verdict"]) == (1, 1, 0)
    assert (owners["suzuki"]["handoffs"], owners["suzuki"]["accepted"], owners["suzuki"]["median_hours_to_verdict"]) \
        == (2, 1, 4.5)
    teams = {row["team"]: row for row in sales["teams"]}
    west = teams["west"]
    assert (west["handoffs"], west["overdue"], west["name"]) == (3, 1, "西日本営業 (west Japan)")
    assert {(r["outcome"], r["reason"], r["count"]) for r in sales["reasons"]} == {
        ("accepted", None, 2), ("won", "予算確保", 1), ("rejected", "競合導入済み", 1), ("recycle", "時期尚早", 1)}


def test_a_report_without_handoffs_has_an_empty_sales_section():
    sales = build_report([], NOVEMBER, CONFIG.sequences, CONFIG.scoring, NOW, sales=CONFIG.sales)["sales"]
    assert sales == {"owners": [], "teams": [], "reasons": []}
