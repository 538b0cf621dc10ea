"""The console's lead search: how typed text is compared, and which filters become which segment criteria."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from nurture.config import load_config
from nurture.domain.audiences.evaluate import SegmentEvaluator, UnknownSegment
from nurture.domain.audiences.search import LeadSearch, folded, mentions, search_criteria
from tests.conftest import CONFIG_DIR

NOW = datetime(2026, 12, 5, tzinfo=UTC)
CONFIG = load_config(CONFIG_DIR)
EVALUATOR = SegmentEvaluator(CONFIG.segments, CONFIG.scoring, CONFIG.subscriptions)


@pytest.mark.parametrize(("typed", "stored"), [("ａｃｍｅ", "Acme"), (" ACME ", "acme"), ("ｶﾌﾞｼｷ", "カブシキ"),
                                               ("株式会社", "株式会社ＡＢＣ")])
def test_text_is_compared_in_any_case_and_width(typed, stored):
    assert mentions({"company": stored}, folded(typed))


def test_text_is_looked_for_in_the_name_the_company_and_the_address_only():
    assert mentions({"name": "山田 太郎"}, folded("山田"))
    assert mentions({"email": "taro@acme.example.jp"}, folded("acme.example"))
    assert not mentions({"title": "Acme buyer", "custom": {"note": "acme"}}, folded("acme"))


def test_each_filter_becomes_the_segment_criterion_of_the_same_name():
    search = LeadSearch(rank=("A",), stage=("nurturing",), status=("active",), source=("expo",), subscribed=True,
                        segment="mailable")
    assert [criterion.keys() for criterion in search_criteria(search)] == [
        ["rank"], ["stage"], ["status"], ["source"], ["subscribed"], ["segment"]]
    assert search_criteria(LeadSearch(text="acme")) == []


def test_a_search_without_text_or_filter_is_empty_and_an_unknown_value_is_refused():
    assert LeadSearch(text="  ").empty and not LeadSearch(subscribed=False).empty
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"stage": ["nowhere"]}, LeadSearch)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"text": "x", "owner": "tanaka"}, LeadSearch)  # no such filter


def test_the_workers_match_a_search_as_text_and_criteria_together():
    match = EVALUATOR.matcher("", LeadSearch(text="acme", status=("active",)))
    assert match({"lead_id": "a", "company": "ACME株式会社", "status": "active"}, NOW)
    assert not match({"lead_id": "b", "company": "ACME株式会社", "status": "unsubscribed"}, NOW)
    assert not match({"lead_id": "c", "company": "Beta", "status": "active"}, NOW)
    with pytest.raises(UnknownSegment):
        EVALUATOR.matcher("", LeadSearch(segment="no-such"))
