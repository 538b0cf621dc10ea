"""Schemathesis against the running local system's OpenAPI document: generated requests for every
operation never get a 5xx, and every answer has a documented status, content type and shape.

Schemathesis's pytest plugin does not run under this pytest, so its strategies drive hypothesis
directly, one operation after another. Its check that schema-valid data is accepted is left out:
a token (an unsubscribe or tracking link) is any string to a schema, and only a signed one is valid."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.local_system import RunningSystem

pytestmark = pytest.mark.integration
EXAMPLES = 50  # per operation: the whole API in about ten seconds
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(local_system: RunningSystem):
    schema = schemathesis.openapi.from_url(f"{local_system.base_url}/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=local_system.base_url, checks=CHECKS)

        call()
