"""Download forms' materials, decided without AWS: what the config must hold, what a post asks for, how often the
email goes, and the download token's purpose kept apart from every other link's."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nurture.config.loader import load_config_files, read_config_files
from nurture.config.materials import material_problems, named_materials, shipped_materials
from nurture.config.models import FormDefinition
from nurture.config.records import validated
from nurture.domain.downloads.material_email import material_message_id
from nurture.domain.downloads.requests import MaterialMessage, requested_material
from nurture.domain.downloads.tokens import download_token, material_of
from nurture.domain.emails import footer_problems
from nurture.domain.errors import ConfigInvalid, InvalidToken
from nurture.domain.tokens import CLICK, CONFIRM, DOWNLOAD, ExpiredToken, TokenSigner
from nurture.http.pages import thanks_page
from tests.conftest import CONFIG_DIR

NOW = datetime(2026, 6, 9, 1, 0, tzinfo=UTC)
SIGNER = TokenSigner(b"k" * 32)
PDF = "whitepaper-lead-nurturing-101.pdf"


def test_a_download_form_needs_a_plain_file_name_and_no_longer_a_public_copy():
    form = validated(FormDefinition, {"kind": "download", "title": "資料", "asset": PDF})
    assert form.asset_url is None
    with pytest.raises(ValueError, match="needs an 'asset'"):
        validated(FormDefinition, {"kind": "download", "title": "資料"})
    for hostile in ("../secret.pdf", "a b.pdf", "資料.pdf", '"x".pdf', ".hidden", "a/b.pdf"):
        with pytest.raises(ValueError, match="asset"):
            validated(FormDefinition, {"kind": "download", "title": "資料", "asset": hostile})


@pytest.mark.parametrize(("setting", "template", "link"), [("double_opt_in", "confirm_subscription", "confirm_url"),
                                                           ("downloads", "send_material", "download_url")])
def test_config_check_names_a_missing_email_a_form_sends_and_one_without_its_link(setting, template, link):
    files = read_config_files(CONFIG_DIR)
    with pytest.raises(ConfigInvalid) as missing:
        load_config_files({name: text for name, text in files.items() if name != f"templates/{template}.yaml"},
                          "config")
    assert f"config/forms.yaml: {setting}.template: '{template}' is not in templates/" in missing.value.problems
    linkless = files[f"templates/{template}.yaml"].replace(f"{{{{ {link} }}}}", "")
    with pytest.raises(ConfigInvalid) as unlinked:
        load_config_files({**files, f"templates/{template}.yaml": linkless}, "config")
    assert [p for p in unlinked.value.problems if link in p] == [
        f"config/forms.yaml: {setting}.template: templates/{template}.yaml {part} does not show {{{{ {link} }}}}"
        for part in ("ja.html", "ja.text", "en.html", "en.text")]


def test_the_material_email_is_transactional_it_shows_the_sender_and_needs_no_opt_out_link():
    config = load_config_files(read_config_files(CONFIG_DIR), "config", check_template_syntax=True)
    assert config.templates["send_material"].kind == "material"
    assert footer_problems(config.templates["send_material"]) == []


def test_a_form_or_an_event_whose_file_is_not_in_the_assets_folder_is_named(tmp_path: Path):
    config = load_config_files(read_config_files(CONFIG_DIR), "config")
    assert material_problems(CONFIG_DIR, config.forms, config.events) == []
    assert named_materials(CONFIG_DIR, config.forms, config.events) == {PDF: CONFIG_DIR / "assets" / PDF}
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    (tmp_path / "config" / "assets" / PDF).unlink()
    (tmp_path / "config" / "assets" / "notes for me.txt").write_text("not a material name")
    assert material_problems(tmp_path / "config", config.forms, config.events) == [
        f"{tmp_path / 'config'}/forms.yaml: forms.whitepaper.asset: assets/{PDF} is not there",
        f"{tmp_path / 'config'}/events.yaml: events.scoring-seminar-2026-12.follow_up.material: assets/{PDF} is not "
        "there"]
    assert PDF in shipped_materials(CONFIG_DIR) and shipped_materials(tmp_path / "config") == {}


def test_only_a_download_forms_post_asks_for_its_material():
    post = {"type": "form_submit", "form_kind": "download", "form_id": "whitepaper", "asset": PDF,
            "occurred_at": "2026-06-09T01:00:00.000000Z"}
    assert requested_material("L1", post) == MaterialMessage.of(lead_id="L1", form_id="whitepaper",
                                                             asked_at="2026-06-09T01:00:00.000000Z")
    assert requested_material("L1", {**post, "form_kind": "contact"}) is None
    assert requested_material("L1", {**post, "type": "download"}) is None  # a download is no request


def test_the_email_goes_once_per_lead_form_and_clock_hour():
    def message_id(at: str, lead: str = "L1", form: str = "whitepaper") -> str:
        return material_message_id(MaterialMessage.of(lead_id=lead, form_id=form, asked_at=at))

    first = message_id("2026-06-09T01:00:00.000000Z")
    assert message_id("2026-06-09T01:59:59.999999Z") == first
    assert message_id("2026-06-09T02:00:00.000000Z") != first
    assert message_id("2026-06-09T01:00:00.000000Z", lead="L2") != first
    assert message_id("2026-06-09T01:00:00.000000Z", form="catalogue") != first


def test_a_download_token_names_its_material_lasts_its_days_and_serves_no_other_purpose():
    token = download_token(SIGNER, "L1", "whitepaper", PDF, NOW, 7)
    asset, form_id, claims = material_of(token, SIGNER, NOW + timedelta(days=6))
    assert (asset, form_id, claims["l"], claims["s"]) == (PDF, "whitepaper", "L1", int(NOW.timestamp()))
    with pytest.raises(ExpiredToken):
        material_of(token, SIGNER, NOW + timedelta(days=7, seconds=1))
    for other in (CLICK, CONFIRM):
        with pytest.raises(InvalidToken):
            SIGNER.verify(token, other, NOW)
        with pytest.raises(InvalidToken):
            material_of(SIGNER.sign(other, {"l": "L1", "f": "whitepaper", "a": PDF}), SIGNER, NOW)
    # A genuine token whose file name could escape the bucket's prefix is refused all the same.
    with pytest.raises(InvalidToken):
        material_of(SIGNER.sign(DOWNLOAD, {"l": "L1", "f": "whitepaper", "a": "../config/active.json"}), SIGNER, NOW)
    # The thank-you page's names no lead: its answer is public.
    assert material_of(download_token(SIGNER, None, "whitepaper", PDF, NOW, 7), SIGNER, NOW)[2].keys() == {
        "k", "v", "f", "a", "e"}


def test_the_thank_you_page_links_the_posts_own_download_or_the_public_copy_escaped():
    form = FormDefinition(kind="download", title='<b>"資料"</b>', asset=PDF)
    page = thanks_page(form, None, '../../d/a"b')
    assert '<a href="../../d/a&quot;b" download>資料をダウンロードする</a>' in page
    assert "&lt;b&gt;&quot;資料&quot;&lt;/b&gt;" in page and "<b>" not in page
    public = FormDefinition(kind="download", title="資料", asset=PDF, asset_url="/files/w.pdf")
    assert '<a href="/files/w.pdf" download>' in thanks_page(public, None, "../../d/t")
    assert "download>" not in thanks_page(form, None, None)
