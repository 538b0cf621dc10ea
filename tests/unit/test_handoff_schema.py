import json

import jsonschema
import msgspec

from nurture.domain.handoff import HandoffMessage
from tests.conftest import REPO

SCHEMA_FILE = REPO / "docs" / "handoff.schema.json"


def test_documented_schema_is_the_one_the_code_produces():
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == msgspec.json.schema(HandoffMessage), (
        "docs/handoff.schema.json is stale: regenerate it from msgspec.json.schema(HandoffMessage)")


def test_documented_schema_is_valid_and_rejects_the_previous_version():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert any(list(e.path) == ["schema_version"] for e in validator.iter_errors({"schema_version": 2}))
    assert not any(list(e.path) == ["schema_version"] for e in validator.iter_errors({"schema_version": 3}))
