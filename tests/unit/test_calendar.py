"""The marketing calendar: by rank and by campaign segment, and the silent months."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import yaml

from nurture.config import load_config
from nurture.config.loader import load_config_files, read_config_files
from nurture.config.records import validated
from nurture.config.segments import SegmentsConfig
from nurture.domain.campaigns.calendar import build_calendar, ranks_of, within
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
TOKYO = ZoneInfo("Asia/Tokyo")


def test_the_shipped_2027_plan_leaves_no_rank_without_a_touchpoint_in_any_month():
    calendar = build_calendar(2027, CONFIG.sequences, CONFIG.segments, CONFIG.campaigns, TOKYO)

    assert calendar["silent_ranks"] == {}
    cold = next(row for row in calendar["ranks"] if row["rank"] == "C")
    assert "campaign: newsletter-2027-01" in cold["months"]["2027-01"]
    assert any(entry.startswith("step: ") for entry in cold["months"]["2027-01"])
    mailable = next(row for row in calendar["segments"] if row["segment"] == "mailable")
    assert mailable["silent"] == []


def test_without_its_newsletters_a_cold_lead_goes_silent_after_its_sequence():
    files = read_config_files(CONFIG_DIR)
    files["campaigns.yaml"] = yaml.safe_dump({"campaigns": {}})
    bare = load_config_files(files, "config")

    calendar = build_calendar(2027, bare.sequences, bare.segments, bare.campaigns, TOKYO)

    assert calendar["silent_ranks"]["C"][-1] == "2027-12" and "2027-01" not in calendar["silent_ranks"]["C"]
    assert calendar["segments"] == [] and calendar["silent_segments"] == {}


def test_a_campaign_reaches_the_ranks_its_segment_does_not_rule_out():
    segments = validated(SegmentsConfig, {"segments": {
        "hot": {"rank": ["A"]},
        "warm_readers": {"all": [{"subscribed": True}, {"rank": ["A", "B"]}, {"not": {"rank": ["A"]}}]},
        "either": {"any": [{"segment": "hot"}, {"rank": ["C"]}]},
        "not_hot": {"not": {"segment": "hot"}},
    }})

    assert ranks_of(segments.segments["hot"], segments) == {"A"}
    assert ranks_of(segments.segments["warm_readers"], segments) == {"B"}
    assert ranks_of(segments.segments["either"], segments) == {"A", "C"}
    assert ranks_of(segments.segments["not_hot"], segments) == {"A", "B", "C"}  # read from criteria: unknown


def test_a_campaign_segment_also_gets_what_goes_to_a_segment_whose_conditions_it_includes():
    segments = validated(SegmentsConfig, {"segments": {
        "mailable": {"subscribed": True},
        "domestic": {"field": {"name": "country", "any_of": ["JP"]}},
        "domestic_readers": {"all": [{"segment": "mailable"}, {"segment": "domestic"}]},
        "anyone_in_japan": {"any": [{"segment": "domestic"}, {"subscribed": True}]},
    }})

    assert within("domestic_readers", "mailable", segments) and within("domestic_readers", "domestic", segments)
    assert not within("mailable", "domestic_readers", segments)
    assert not within("anyone_in_japan", "mailable", segments)  # `any` promises neither condition
    calendar = build_calendar(2027, CONFIG.sequences, CONFIG.segments, CONFIG.campaigns, TOKYO)
    invited = next(row for row in calendar["segments"] if row["segment"] == "seminar_invitation")
    assert invited["months"]["2027-06"] == ["newsletter-2027-06", "seminar-2027-06"] and invited["silent"] == []


def test_the_calendar_command_prints_the_year_and_names_no_silent_month(capsys):
    from nurture.cli.main import main

    assert main(["--config-dir", str(CONFIG_DIR), "calendar", "--year", "2027"]) == 0
    text = capsys.readouterr().out
    assert "  2027-01  step: know_how" in text and "months without a touchpoint: none" in text
    assert main(["--config-dir", str(CONFIG_DIR), "calendar", "--year", "2027", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["silent_ranks"] == {}
