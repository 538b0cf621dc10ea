"""Offline activity's rules: the kinds scoring.yaml declares, the checks an entry passes, and a CSV's rows as the
import reads them (Japanese and English headers, spreadsheet dates, ids from what a row says)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from nurture.config import load_config
from nurture.config.records import dumped, validated
from nurture.config.scoring import ScoringRules
from nurture.domain.errors import LeadGone, LeadNotFound, ValidationFailed
from nurture.domain.importing import ImportRefused
from nurture.domain.sales.offline import Defaults, OfflineEntry, parse_moment, plan_activity_import, record_offline
from tests.conftest import CONFIG_DIR

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
RULES = load_config(CONFIG_DIR).scoring


def rules_with(**changes: Any) -> ScoringRules:
    return validated(ScoringRules, {**dumped(ScoringRules, RULES, exclude_none=True), **changes})


def test_a_rule_on_an_offline_kind_scoring_yaml_does_not_declare_is_refused_naming_the_rule():
    engagement = [*dumped(ScoringRules, RULES, exclude_none=True)["engagement"],
                  {"id": "golf", "when": {"event": "offline", "name": "golf"}, "points": 5, "reason": "ゴルフ"}]
    with pytest.raises(ValidationError, match=r"offline_activities \(booth_visit, meeting, visit, phone_call\): golf"):
        rules_with(engagement=engagement)


@pytest.mark.parametrize("kinds", [{"Booth Visit": "展示会"}, {"booth_visit": " "}, {"booth_visit": "x" * 101}])
def test_an_offline_kind_is_a_snake_case_id_with_a_label(kinds: dict[str, str]):
    with pytest.raises(ValidationError, match="offline"):
        rules_with(offline_activities=kinds, engagement=[])


class Store:
    def __init__(self, gone: bool = False) -> None:
        self.gone, self.recorded = gone, {}

    def record_once(self, lead_id: str, activity: Any, client_id: str | None = None) -> bool:
        if self.gone:
            raise LeadGone(lead_id)
        return self.recorded.setdefault((lead_id, client_id), activity) is activity


def test_an_entry_is_recorded_once_per_id_and_an_erased_lead_is_no_lead():
    store, entry = Store(), OfflineEntry("m-1", "meeting", "鈴木")
    assert record_offline("lead-1", entry, store, RULES, NOW, 730)["recorded"] is True
    assert record_offline("lead-1", entry, store, RULES, NOW, 730) == {
        "lead_id": "lead-1", "id": "m-1", "type": "meeting", "recorded": False}
    with pytest.raises(LeadNotFound):
        record_offline("lead-1", entry, Store(gone=True), RULES, NOW, 730)


def test_every_problem_of_an_entry_is_named_at_once():
    entry = OfflineEntry("", "golf", "", datetime(2027, 1, 1, tzinfo=UTC), "x" * 2001)
    with pytest.raises(ValidationFailed) as refused:
        record_offline("lead-1", entry, Store(), RULES, NOW, 730)
    assert [p.field for p in refused.value.problems] == ["id", "type", "by", "note", "occurred_at"]


@pytest.mark.parametrize(("written", "moment"), [
    ("2026/11/20", datetime(2026, 11, 19, 15, 0, tzinfo=UTC)),
    ("2026/1/5 9:05", datetime(2026, 1, 5, 0, 5, tzinfo=UTC)),
    ("2026-11-20 14:30:15", datetime(2026, 11, 20, 5, 30, 15, tzinfo=UTC)),
    ("2026年11月20日", datetime(2026, 11, 19, 15, 0, tzinfo=UTC)),
    ("2026-11-20T14:30:00+00:00", datetime(2026, 11, 20, 14, 30, tzinfo=UTC)),
])
def test_spreadsheet_dates_are_read_as_tokyo_time_unless_they_carry_an_offset(written: str, moment: datetime):
    assert parse_moment(written, "Asia/Tokyo") == moment


@pytest.mark.parametrize("written", ["", "20/11/2026", "2026/13/01", "yesterday"])
def test_a_date_that_is_not_one_is_refused(written: str):
    with pytest.raises(ValueError):
        parse_moment(written, "Asia/Tokyo")


def plan(text: str, defaults: Defaults | None = None, mapping: dict[str, str] | None = None) -> Any:
    return plan_activity_import(text.encode(), RULES, NOW, 730, defaults or Defaults(), None, mapping)


def test_options_fill_the_columns_a_list_lacks_and_the_same_row_gets_the_same_id():
    text = "Email,Company\nkaneko@maker.example.co.jp,金子製作所\n"
    first = plan(text, Defaults("booth_visit", "2026/11/20", "展示会チーム"))
    again = plan(text, Defaults("booth_visit", "2026/11/20", "展示会チーム"))
    other_day = plan(text, Defaults("booth_visit", "2026/11/21", "展示会チーム"))

    (row,) = first.entries
    assert (row.row, row.email, row.entry.kind, row.entry.by, row.entry.source) == (
        2, "kaneko@maker.example.co.jp", "booth_visit", "展示会チーム", "import")
    assert first.ignored_columns == ["Company"]
    assert row.entry.client_id.startswith("row-") and row.entry.client_id == again.entries[0].entry.client_id
    assert other_day.entries[0].entry.client_id != row.entry.client_id


@pytest.mark.parametrize(("text", "defaults", "message"), [
    ("", Defaults(), "empty"),
    ("Name,Type\n山田,meeting\n", Defaults(), "No email or lead id column"),
    ("Email,Date,By\na@example.jp,2026/11/20,佐藤\n", Defaults(), "No type column: add one, or give every row's "
                                                                   "with --type"),
    ("Email,Type,By\na@example.jp,meeting,佐藤\n", Defaults(), "No occurred_at column"),
    ("Email,Type,Date\na@example.jp,meeting,2026/11/20\n", Defaults(), "No by column"),
])
def test_a_list_missing_what_every_row_needs_is_refused_before_anything_is_written(text: str, defaults: Defaults,
                                                                                   message: str):
    with pytest.raises(ImportRefused, match=message):
        plan(text, defaults)


def test_an_at_option_that_is_not_a_date_refuses_the_import_once_instead_of_every_row():
    with pytest.raises(ImportRefused, match="--at is not a date"):
        plan("email\na@example.jp\n", Defaults("meeting", "next friday", "佐藤"))


def test_a_column_mapped_by_hand_counts_and_a_lead_id_column_needs_no_address():
    planned = plan("来場者,区分,日付,担当\nlead-42,visit,2026/11/20,佐藤\n",
                   mapping={"来場者": "lead_id", "区分": "type", "担当": "by"})
    (row,) = planned.entries
    assert (row.lead_id, row.email, row.entry.kind) == ("lead-42", None, "visit") and planned.ignored_columns == []


def test_a_row_from_the_future_or_older_than_activity_is_kept_is_rejected_with_its_row_number():
    planned = plan("email,type,date,by\na@example.jp,meeting,2027/01/01,佐藤\nb@example.jp,meeting,2020/01/01,佐藤\n")
    assert [(r.row, r.reasons) for r in planned.rejected] == [
        (2, ["occurred_at: is not in the future"]), (3, ["occurred_at: is within the 730 days activity is kept"])]
