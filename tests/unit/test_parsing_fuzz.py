"""Form and beacon parsing under arbitrary input: every body, encoding and size gets an answer the
API can give (parsed, or an input error that becomes a 4xx), never an exception it cannot map."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nurture.config import load_config
from nurture.domain.beacons import parse_beacons
from nurture.domain.bodies import parse_form_fields
from nurture.domain.errors import InputError
from nurture.domain.submissions import validate_submission
from tests.conftest import CONFIG_DIR

FORMS = load_config(CONFIG_DIR).forms
# Charsets a client may name: web encodings, unknown names, and Python codecs that are not character
# encodings at all (rot13 and base64 were a 500 before) or not the web's (unicode_escape, utf-7).
CHARSETS = st.sampled_from(["utf-8", "UTF-8", "shift_jis", "cp932", "euc-jp", "iso-2022-jp", "utf-16", "latin-1",
                            "nonsense", "", "rot13", "rot_13", "base64", "hex", "zlib", "bz2", "uu", "quopri",
                            "punycode", "idna", "utf-7", "unicode_escape", "raw_unicode_escape", "undefined"])
CONTENT_TYPES = st.one_of(
    st.sampled_from([None, "", "application/json", "application/x-www-form-urlencoded",
                     "multipart/form-data; boundary=xyz", "multipart/form-data", "text/plain", "text/html",
                     "image/gif"]),
    st.builds("{}; charset={}".format, st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                                        "text/plain", "multipart/form-data; boundary=xyz"]),
              CHARSETS),
)
FIELD_NAMES = st.sampled_from(["email", "name", "company", "title", "phone", "employees", "consent", "vid", "page",
                               "utm_source", "session", "website", "country", "timezone", "x" * 300])
VALUES = st.one_of(st.text(max_size=300), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                   st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5),
                                                                             max_size=2))


def submit(form_id: str, content_type: str | None, body: bytes) -> None:
    try:
        fields = parse_form_fields(content_type, body)
    except InputError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    try:
        submission = validate_submission(form_id, FORMS[form_id], fields)
    except InputError:
        return
    assert submission.email and "@" in submission.email


@settings(max_examples=300, deadline=None)
@given(form_id=st.sampled_from(sorted(FORMS)), content_type=CONTENT_TYPES, body=st.binary(max_size=4096))
def test_any_bytes_as_a_form_are_parsed_or_refused_as_input(form_id, content_type, body):
    submit(form_id, content_type, body)


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "hex", "punycode", "undefined", "utf-7",
                                     "unicode_escape", "raw_unicode_escape", "idna", "utf-32", "cp037"])
def test_a_codec_that_is_not_one_of_the_webs_encodings_is_refused_as_unsupported(charset):
    from nurture.domain.errors import UnsupportedMediaType

    with pytest.raises(UnsupportedMediaType):
        parse_form_fields(f"application/x-www-form-urlencoded; charset={charset}", b"email=a%40example.jp&a=%2B2D3-")


@pytest.mark.parametrize(("charset", "body", "name"), [
    ("windows-31j", b"name=%8ER%93c", "山田"), ("Shift_JIS", b"name=%8ER%93c", "山田"),
    ("x-sjis", b"name=%8ER%93c", "山田"), ("cp932", b"name=%8ER%93c", "山田"), ("EUC-JP", b"name=%BB%B3%C5%C4", "山田"),
    ("ISO-2022-JP", b"name=%1B%24B%3B3ED%1B%28B", "山田"),
    ("Shift_JIS", b"name=%EE%E0%8B%B4", "髙橋"),  # read as Windows and browsers read Shift_JIS (cp932)
    ("latin1", b"name=%80", "€"), ("us-ascii", b"name=%80", "€"),  # both are windows-1252 on the web
])
def test_a_form_is_read_by_any_name_the_web_gives_its_encoding_as_browsers_read_it(charset, body, name):
    assert parse_form_fields(f"application/x-www-form-urlencoded; charset={charset}", body) == {"name": name}


@settings(max_examples=300, deadline=None)
@given(form_id=st.sampled_from(sorted(FORMS)), fields=st.dictionaries(FIELD_NAMES, VALUES, max_size=12),
       encoding=st.sampled_from(["utf-8", "cp932", "utf-16", "latin-1"]))
def test_any_json_form_in_any_encoding_is_parsed_or_refused_as_input(form_id, fields, encoding):
    try:
        body = json.dumps(fields, ensure_ascii=False).encode(encoding)
    except UnicodeEncodeError:
        body = json.dumps(fields).encode(encoding)
    submit(form_id, f"application/json; charset={encoding}", body)


@settings(max_examples=300, deadline=None)
@given(content_type=CONTENT_TYPES, body=st.binary(max_size=4096))
def test_any_bytes_as_a_beacon_are_parsed_or_refused_as_input(content_type, body):
    try:
        beacons = parse_beacons(content_type, body, max_events=20)
    except InputError:
        return
    assert beacons


BEACON = st.fixed_dictionaries({"type": st.sampled_from(["page_view", "download", "custom", "click", ""])},
                               optional={"url": st.one_of(st.text(max_size=80), st.just("https://example.jp/p"),
                                                          st.just("https://" + "a" * 3000)),
                                         "vid": st.one_of(st.text(max_size=80), st.uuids().map(str)),
                                         "referrer": VALUES, "title": VALUES, "name": VALUES,
                                         "value": VALUES, "ts": VALUES})


@settings(max_examples=300, deadline=None)
@given(events=st.one_of(BEACON, st.lists(BEACON, max_size=25)))
def test_any_beacon_shaped_json_is_parsed_or_refused_as_input(events):
    try:
        beacons = parse_beacons("text/plain;charset=UTF-8", json.dumps(events).encode(), max_events=20)
    except InputError:
        return
    assert len(beacons) == (len(events) if isinstance(events, list) else 1)
