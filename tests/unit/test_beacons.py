"""The tracking snippet's beacon as hostile input: what is kept, what is refused and named."""

from __future__ import annotations

import json

import pytest

from nurture.domain.beacons import parse_beacons
from nurture.domain.errors import ValidationFailed


def beacons(*events: dict[str, object]) -> list[object]:
    return list(parse_beacons("text/plain;charset=UTF-8", json.dumps(list(events)).encode(), max_events=20))


def test_an_integer_too_large_to_keep_exactly_is_kept_as_the_float_it_is_close_to():
    (beacon,) = beacons({"vid": "visitor-0001", "type": "custom", "name": "calc", "props": {"n": 10**16, "m": 7}})

    assert beacon.props == {"n": 1e16, "m": 7}  # type: ignore[attr-defined]


def test_text_is_stored_without_what_cannot_be_seen():
    (beacon,) = beacons({"vid": "visitor-0001", "type": "page_view", "title": " 料金\u200b ", "url": "https://a.jp/\u202e"})

    assert (beacon.title, beacon.url) == ("料金", "https://a.jp/")  # type: ignore[attr-defined]


def test_each_bad_event_is_named_by_its_place_and_nothing_is_kept():
    with pytest.raises(ValidationFailed) as refused:
        beacons({"vid": "visitor-0001", "type": "page_view"}, {"vid": "visitor-0001", "type": "custom"},
                {"vid": "short", "type": "page_view"},
                {"vid": "visitor-0001", "type": "page_view", "props": {"x": 1e300}})

    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("events[1].name", "required"), ("events[2].vid", "invalid"), ("events[3].props", "invalid")]
