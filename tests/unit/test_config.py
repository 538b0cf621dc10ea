import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from nurture.cli.main import main
from nurture.config import ApiSettings, load_config
from nurture.config.models import FormDefinition
from nurture.config.records import validated
from nurture.config.sequences import Sequence
from nurture.domain.errors import ConfigInvalid
from tests.conftest import CONFIG_DIR


def test_shipped_config_has_the_five_forms_one_of_them_double_opt_in():
    config = load_config(CONFIG_DIR)
    assert {form_id: form.kind for form_id, form in config.forms.items()} == {
        "contact": "contact", "whitepaper": "download", "seminar": "seminar", "demo": "demo_request",
        "newsletter": "newsletter"}
    assert [form_id for form_id, form in config.forms.items() if form.double_opt_in] == ["newsletter"]
    assert config.forms["whitepaper"].asset


def test_config_check_passes_on_shipped_config(capsys):
    assert main(["--config-dir", str(CONFIG_DIR), "config", "check"]) == 0
    assert "config OK: 5 forms" in capsys.readouterr().out


@pytest.fixture
def broken_config(tmp_path: Path) -> Path:
    shutil.copy(CONFIG_DIR / "api.yaml", tmp_path / "api.yaml")
    (tmp_path / "forms.yaml").write_text(
        "forms:\n"
        "  contact:\n"
        "    kind: contact\n"
        "    title: Contact\n"
        "  whitepaper:\n"
        "    kind: download\n"
        "    title: Paper\n"
        "    required: [email, favourite_colour]\n"
        "  broken:\n"
        "    kind: webinar\n"
        "    title: Broken\n"
        "    honeypot: website\n"
        "    colour: blue\n",
        encoding="utf-8",
    )
    return tmp_path


def test_every_problem_is_listed_with_file_line_and_path(broken_config):
    with pytest.raises(ConfigInvalid) as raised:
        load_config(broken_config)
    problems = raised.value.problems
    path = broken_config / "forms.yaml"
    assert any(p.startswith(f"{path}:6: forms.whitepaper:") and "favourite_colour" in p for p in problems)
    assert any(p.startswith(f"{path}:10: forms.broken.kind:") for p in problems)
    assert any(p.startswith(f"{path}:13: forms.broken.colour:") for p in problems)


def test_config_check_exits_non_zero_and_prints_problems(broken_config, capsys):
    assert main(["--config-dir", str(broken_config), "config", "check"]) == 1
    err = capsys.readouterr().err
    assert "forms.broken.kind" in err and "problem(s) found" in err


def test_invalid_yaml_is_reported_with_its_line(tmp_path):
    (tmp_path / "forms.yaml").write_text("forms:\n  contact: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigInvalid) as raised:
        load_config(tmp_path)
    assert "forms.yaml:3: not valid YAML" in raised.value.problems[0]


def test_missing_required_files_are_problems(tmp_path):
    with pytest.raises(ConfigInvalid) as raised:
        load_config(tmp_path)
    assert raised.value.problems == [f"{tmp_path / 'forms.yaml'}: missing file",
                                     f"{tmp_path / 'scoring.yaml'}: missing file",
                                     f"{tmp_path / 'sequences.yaml'}: missing file"]


def test_config_check_reports_template_syntax_and_missing_templates(tmp_path, capsys):
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    (tmp_path / "config" / "templates" / "case_study.yaml").unlink()
    (tmp_path / "config" / "templates" / "know_how.yaml").write_text(
        "ja:\n  subject: '{% if %}'\n  html: '<p/>'\n  text: x\n", encoding="utf-8")
    assert main(["--config-dir", str(tmp_path / "config"), "config", "check"]) == 1
    err = capsys.readouterr().err
    assert "know_how.yaml: ja.subject:" in err
    assert "template 'case_study' is not in templates/" in err


@pytest.mark.parametrize("origin", ["https://www.example.co.jp/contact", "https://www.example.co.jp/",
                                    "www.example.co.jp", "https://", "ftp://example.co.jp"])
def test_a_cors_origin_must_be_exactly_what_a_browser_sends(origin):
    with pytest.raises(ValidationError, match="is not an origin"):
        validated(ApiSettings, {"cors": {"allow_origins": [origin]}})


def test_origins_with_a_port_and_the_wildcard_are_accepted():
    origins = ["http://127.0.0.1:3000", "https://lp.example.co.jp", "*"]
    assert validated(ApiSettings, {"cors": {"allow_origins": origins}}).cors.allow_origins == origins


@pytest.mark.parametrize(("written", "redirected_to"), [
    ("https://www.example.co.jp/thanks?from=form#top", "https://www.example.co.jp/thanks?from=form#top"),
    ("http://example.jp:8080", "http://example.jp:8080/"),
    ("https://例え.jp/お礼", "https://xn--r8jz45g.jp/%E3%81%8A%E7%A4%BC"),
    ("https://example.jp/a%20b", "https://example.jp/a%20b"),
])
def test_a_forms_redirect_url_is_kept_as_a_location_header_can_carry_it(written, redirected_to):
    form = validated(FormDefinition, {"kind": "contact", "title": "t", "success_url": written})
    assert form.success_url == redirected_to


@pytest.mark.parametrize(("written", "problem"), [
    ("/thanks", "absolute http"), ("javascript:alert(1)", "absolute http"), ("ftp://example.jp/", "absolute http"),
    ("https://example.jp/\r\nSet-Cookie: a=b", "control characters"), ("https://a b.jp/", "spaces"),
    ("https://user:pw@example.jp/", "user name"), ("https://example.jp:99999/", "Port out of range"),
])
def test_a_forms_redirect_url_that_is_not_an_absolute_web_address_is_refused(written, problem):
    with pytest.raises(ValidationError, match=problem):
        validated(FormDefinition, {"kind": "contact", "title": "t", "error_url": written})


def test_a_sunset_period_belongs_to_a_sequence_that_enrolls_dormant_leads():
    steps = [{"id": "first", "delay_days": 0, "template": "know_how"}]
    with pytest.raises(ValidationError, match="sunset_after_days applies to a sequence that enrolls by dormant_days"):
        validated(Sequence, {"id": "warm", "enroll": {"rank": ["B"]}, "steps": steps, "sunset_after_days": 10})
    dormant = validated(Sequence, {"id": "back", "enroll": {"dormant_days": 60}, "steps": steps})
    assert dormant.reengages and dormant.sunset_days == 30
    with pytest.raises(ValidationError, match="Input should be a valid integer"):  # `sunset_after_days:` left empty
        validated(Sequence, {"id": "back", "enroll": {"dormant_days": 60}, "steps": steps, "sunset_after_days": None})


def test_a_campaign_or_sequence_of_an_unknown_subscription_type_is_refused_with_its_location(tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path, dirs_exist_ok=True)
    campaigns = (tmp_path / "campaigns.yaml").read_text(encoding="utf-8")
    (tmp_path / "campaigns.yaml").write_text(campaigns.replace("type: newsletter", "type: newsleter", 1),
                                             encoding="utf-8")
    forms = (tmp_path / "forms.yaml").read_text(encoding="utf-8")
    started = "    kind: contact\n    subscriptions: {seminar: opted_in, webinar: opted_in}\n"
    (tmp_path / "forms.yaml").write_text(forms.replace("    kind: contact\n", started, 1), encoding="utf-8")
    sequences = (tmp_path / "sequences.yaml").read_text(encoding="utf-8")
    typed = sequences.replace("  - id: hot_followup", "  - type: webinars\n    id: hot_followup")
    hot_followup = [sequence.id for sequence in load_config(CONFIG_DIR).sequences.sequences].index("hot_followup")
    (tmp_path / "sequences.yaml").write_text(typed, encoding="utf-8")
    with pytest.raises(ConfigInvalid) as raised:
        load_config(tmp_path)
    assert raised.value.problems == [
        f"{tmp_path}/campaigns.yaml: campaigns.newsletter-2027-01.type: no subscription type 'newsleter' in "
        "subscriptions.yaml (it has: newsletter, seminar, product_news, step_emails)",
        f"{tmp_path}/forms.yaml: forms.contact.subscriptions.webinar: no subscription type 'webinar' in "
        "subscriptions.yaml (it has: newsletter, seminar, product_news, step_emails)",
        f"{tmp_path}/sequences.yaml: sequences[{hot_followup}] (hot_followup).type: no subscription type 'webinars' in "
        "subscriptions.yaml (it has: newsletter, seminar, product_news, step_emails)"]


@pytest.mark.parametrize(("types", "problem"), [
    ("  news:\n    name: {ja: メルマガ}\n    description: {ja: 月1回, en: Monthly}\n",
     "subscriptions.yaml:3: types.news.name.en: Field required"),
    ("  News Letter:\n    name: {ja: メルマガ, en: News}\n    description: {ja: 月1回, en: Monthly}\n",
     "subscriptions.yaml:2: types: Value error, subscription type ids are lower-case letters, digits and _: "
     "News Letter"),
])
def test_a_subscription_type_is_named_in_japanese_and_english_with_an_id_that_fits_a_url(tmp_path, types, problem):
    shutil.copytree(CONFIG_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "subscriptions.yaml").write_text(f"types:\n{types}", encoding="utf-8")
    with pytest.raises(ConfigInvalid) as raised:
        load_config(tmp_path)
    assert any(found.endswith(problem) for found in raised.value.problems), raised.value.problems
