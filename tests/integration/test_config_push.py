"""Marketer content without a deploy: `nurture config push` on the running local system."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.local_system import RunningSystem, wait_for

NEW_FORM = {"kind": "download", "title": "事例集ダウンロード", "language": "ja", "required": ["email"],
            "asset": "case-studies-2027.pdf"}
NEW_MATERIAL = b"%PDF-1.4 case studies 2027"


def edited_config(into: Path) -> Path:
    """The shipped config with one more form and its material: what a marketer adds for next week's campaign."""
    shutil.copytree(REPO / "config", into)
    forms = yaml.safe_load((into / "forms.yaml").read_text(encoding="utf-8"))
    forms["forms"]["case_studies"] = NEW_FORM
    (into / "forms.yaml").write_text(yaml.safe_dump(forms, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (into / "assets" / "case-studies-2027.pdf").write_bytes(NEW_MATERIAL)
    return into


def form_status(system: RunningSystem) -> int:
    return system.post_json("/v1/forms/case_studies", {"email": "jirei@example.co.jp"}).status


def test_a_pushed_config_is_used_without_a_restart_and_a_rollback_returns_to_the_deployed_one(
        local_system: RunningSystem, tmp_path: Path):
    config = edited_config(tmp_path / "config")
    assert form_status(local_system) == 404  # the deployed config has no such form

    diff = local_system.cli("--config-dir", str(config), "config", "diff")
    assert diff.returncode == 0, diff.stderr
    assert "+++ local/forms.yaml" in diff.stdout and "+  case_studies:" in diff.stdout

    pushed = local_system.cli("--config-dir", str(config), "config", "push", "--by", "marketing@example.co.jp")
    try:
        assert pushed.returncode == 0, pushed.stderr
        assert "pushed version 2" in pushed.stdout
        assert "uploaded 2 material(s): case-studies-2027.pdf, whitepaper-lead-nurturing-101.pdf" in pushed.stderr
        wait_for(lambda: form_status(local_system) == 202, seconds=20)  # no restart: the pointer's cache ran out
        # The new form's material is there to hand out, without a deploy.
        posted = local_system.request("POST", "/v1/forms/case_studies", "email=jirei%40example.co.jp",
                                      {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
        token = posted.headers["location"].split("?d=")[1]
        handed = local_system.request("GET", f"/v1/d/{token}", headers={"User-Agent": "Mozilla/5.0"})
        with urllib.request.urlopen(handed.headers["location"], timeout=10) as file:
            assert file.read() == NEW_MATERIAL

        status = local_system.cli("config", "status")
        assert "active version: 2 (pushed by marketing@example.co.jp at " in status.stdout
        assert "rollback returns to version 1" in status.stdout
        as_json = json.loads(local_system.cli("config", "status", "--json").stdout)
        assert (as_json["active_version"], as_json["pushed_by"], as_json["rollback_to"]) == (
            2, "marketing@example.co.jp", 1)
        again = local_system.cli("--config-dir", str(config), "config", "diff")
        assert "no changes against the active version 2" in again.stdout
    finally:
        rolled_back = local_system.cli("config", "rollback")
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert "version 1 is active again (was 2)" in rolled_back.stdout
    wait_for(lambda: form_status(local_system) == 404, seconds=20)
    assert "active version: 1 (shipped by the deploy)" in local_system.cli("config", "status").stdout
    # the same, as scripts read it
    again = json.loads(local_system.cli("--config-dir", str(config), "config", "push", "--json").stdout)
    assert again["pushed"] is True and again["rollback_to"] == 1 and again["active_version"] > 2
    back = json.loads(local_system.cli("config", "rollback", "--json").stdout)
    assert back == {"active_version": 1, "was": again["active_version"]}
    wait_for(lambda: form_status(local_system) == 404, seconds=20)


def test_an_invalid_bundle_is_refused_with_its_location_and_changes_nothing(local_system: RunningSystem,
                                                                           tmp_path: Path):
    config = edited_config(tmp_path / "config")
    scoring = (config / "scoring.yaml").read_text(encoding="utf-8")
    (config / "scoring.yaml").write_text(scoring.replace("half_life_days: 30", "half_life_days: -3"), encoding="utf-8")

    refused = local_system.cli("--config-dir", str(config), "config", "push")

    assert refused.returncode == 1
    assert f"{config}/scoring.yaml:4: half_life_days:" in refused.stderr
    assert "nothing was pushed" in refused.stderr
    assert "active version: 1 (shipped by the deploy)" in local_system.cli("config", "status").stdout
    assert form_status(local_system) == 404


def test_a_campaign_whose_time_has_passed_unstarted_is_refused_at_push(local_system: RunningSystem, tmp_path: Path):
    config = edited_config(tmp_path / "config")
    campaigns = yaml.safe_load((config / "campaigns.yaml").read_text(encoding="utf-8"))
    campaigns["campaigns"]["newsletter-2027-01"]["send_at"] = "2026-01-14T10:00:00+09:00"
    (config / "campaigns.yaml").write_text(yaml.safe_dump(campaigns, allow_unicode=True), encoding="utf-8")

    assert local_system.cli("--config-dir", str(config), "config", "check").returncode == 0  # offline: a note
    refused = local_system.cli("--config-dir", str(config), "config", "push")

    assert refused.returncode == 1
    assert "campaigns.newsletter-2027-01: its send time 2026-01-14T10:00:00+09:00 is in the past" in refused.stderr
    assert "active version: 1 (shipped by the deploy)" in local_system.cli("config", "status").stdout


def test_a_download_form_whose_file_is_missing_is_refused_by_check_and_push(local_system: RunningSystem,
                                                                           tmp_path: Path):
    config = edited_config(tmp_path / "config")
    (config / "assets" / "case-studies-2027.pdf").unlink()
    expected = f"{config}/forms.yaml: forms.case_studies.asset: assets/case-studies-2027.pdf is not there"

    checked = local_system.cli("--config-dir", str(config), "config", "check")
    refused = local_system.cli("--config-dir", str(config), "config", "push")

    assert checked.returncode == 1 and expected in checked.stderr
    assert refused.returncode == 1 and expected in refused.stderr and "nothing was pushed" in refused.stderr
    assert "active version: 1 (shipped by the deploy)" in local_system.cli("config", "status").stdout
