"""What a function loads on a cold start: the email renderer only where emails are rendered."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("function", ["forms", "tracking", "scoring", "ses_events", "sales_api"])
def test_functions_that_render_no_email_do_not_load_jinja_on_a_cold_start(function: str):
    probe = (f"import sys; sys.path.insert(0, 'layers/nurture/python'); import functions.{function}.handler; "
             "print(sorted(m for m in ('jinja2', 'nurture.domain.emails') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("function", ["scoring", "handoff", "sender", "ses_events", "audience"])
def test_batch_handlers_load_no_parser_model_powertools_would_import_for_type_hints(function: str):
    # Powertools' batch utility imports every parser model when pydantic is already loaded: the handlers import it
    # before the config does.
    probe = (f"import sys; sys.path.insert(0, 'layers/nurture/python'); import functions.{function}.handler; "
             "print('aws_lambda_powertools.utilities.parser.models' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
