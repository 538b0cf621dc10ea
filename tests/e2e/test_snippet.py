"""The snippet a site owner pastes stays small."""

import gzip

import pytest

from tests.local_system import REPO

pytestmark = pytest.mark.e2e


def test_the_minified_snippet_is_under_3_kb_gzipped():
    bundle = (REPO / ".build" / "web" / "nurture.min.js").read_bytes()  # `make web` builds it
    assert len(gzip.compress(bundle, compresslevel=9)) < 3 * 1024
    assert bundle.startswith(b"/*! Nurture tracking snippet")  # the licence-style comment is kept
