"""What a function loads on a cold start: the email renderer only where emails are rendered."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO


def loaded_on_import(function: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` importing the function's handler loads, in a fresh interpreter."""
    probe = (f"import sys; sys.path.insert(0, 'layers/nurture/python'); import functions.{function}.handler; "
             f"print(sorted(m for m in {modules!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    loaded: list[str] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("function", ["forms", "tracking", "scoring", "ses_events", "sales_api", "notifier"])
def test_functions_that_render_no_email_do_not_load_jinja_on_a_cold_start(function: str):
    assert loaded_on_import(function, ("jinja2", "nurture.domain.emails")) == []


@pytest.mark.parametrize("function", ["scoring", "handoff", "sender", "ses_events", "audience", "notifier"])
def test_batch_handlers_load_no_parser_model_powertools_would_import_for_type_hints(function: str):
    # Powertools' batch utility imports every parser model when pydantic is already loaded: the handlers import it
    # before the config does.
    assert loaded_on_import(function, ("aws_lambda_powertools.utilities.parser.models",)) == []


@pytest.mark.parametrize("function", ["scoring", "handoff", "sender", "audience", "notifier", "ses_events",
                                      "replies"])
def test_consumers_read_their_events_without_powertools_batch_utility_or_event_classes(function: str):
    # They bring asyncio and every Powertools event class (docs/decisions.md, 97 and 112).
    assert loaded_on_import(function, ("aws_lambda_powertools.utilities.batch", "asyncio",
                                       "aws_lambda_powertools.utilities.data_classes")) == []


@pytest.mark.parametrize("function", ["scoring", "handoff", "dispatcher", "sender", "ses_events", "audience",
                                      "notifier", "replies", "forms", "tracking", "sales_api"])
def test_no_function_imports_pydantic_a_yaml_parser_or_an_event_handler_on_a_cold_start(function: str):
    # Their config comes compiled, their messages and request bodies are msgspec Structs, and the API functions route
    # with nurture.http.router: pydantic validates config files where they are checked (docs/decisions.md, 89 and 90).
    assert loaded_on_import(function, ("pydantic", "pydantic_core", "yaml",
                                       "aws_lambda_powertools.event_handler")) == []


@pytest.mark.parametrize("function", ["forms", "tracking", "sales_api", "console"])
def test_api_functions_read_their_events_without_powertools_event_classes(function: str):
    # Importing one of them imports them all (decision 107): the routes read an ApiRequest.
    assert loaded_on_import(function, ("aws_lambda_powertools.utilities.data_classes",)) == []


@pytest.mark.parametrize("function", ["forms", "tracking"])
def test_capture_functions_load_no_campaign_audience_or_purchase_code(function: str):
    assert loaded_on_import(function, ("nurture.adapters.campaign_store", "nurture.domain.campaigns.lifecycle",
                                       "nurture.domain.audiences.scan", "nurture.domain.customers.purchases")) == []


def test_the_console_loads_a_page_s_routes_at_its_first_request():
    assert loaded_on_import("console", ("nurture.http.console_campaigns", "nurture.http.console_segments",
                                        "nurture.http.console_config", "nurture.http.console_home", "jinja2")) == []


@pytest.mark.parametrize("function", ["scoring", "handoff", "forms"])
def test_the_lead_store_brings_no_seminar_audit_or_counter_code_to_a_cold_start(function: str):
    assert loaded_on_import(function, ("nurture.adapters.event_store", "nurture.adapters.audit_log",
                                       "nurture.adapters.counters", "nurture.domain.events.reminders")) == []


def test_the_sender_reads_a_campaign_s_state_without_loading_how_campaigns_start_or_audiences_are_scanned():
    assert loaded_on_import("sender", ("nurture.domain.campaigns.start", "nurture.domain.audiences.scan")) == []


@pytest.mark.parametrize("function", ["scoring", "handoff", "dispatcher", "sender", "ses_events", "audience",
                                      "notifier", "replies", "forms", "tracking", "sales_api", "console"])
def test_a_cold_start_compiles_no_dataclass_methods_but_the_config_models(function: str):
    # The dataclass module compiles each class's methods from source, about half a millisecond a class: 50 ms of
    # a cold start for the domain's values, which are msgspec Structs instead (decision 119). The config models
    # share their methods (nurture.config.records).
    probe = ("import dataclasses, sys; sys.path.insert(0, 'layers/nurture/python'); "
             f"import functions.{function}.handler; "
             "print(sorted(f'{m.__name__}.{n}' for m in list(sys.modules.values()) "
             "if m.__name__.startswith('nurture') for n, c in vars(m).items() if isinstance(c, type) "
             "and c.__module__ == m.__name__ and dataclasses.is_dataclass(c) "
             "and not hasattr(c, '__pydantic_config__')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert ast.literal_eval(done.stdout.strip().splitlines()[-1]) == []
