"""Every pinned manifest is proposed for updates (.github/dependabot.yml), so a pin never ages unseen."""

import yaml

from tests.conftest import REPO


def test_every_manifest_with_pins_is_covered_by_an_update_schedule():
    updates = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text(encoding="utf-8"))["updates"]
    covered = {(update["package-ecosystem"], update["directory"]) for update in updates}

    assert covered == {("pip", "/"), ("pip", "/layers/dependencies"), ("npm", "/")}
    for ecosystem, directory in covered:
        manifest = {"pip": ("pyproject.toml", "requirements.txt"), "npm": ("package.json",)}[ecosystem]
        assert any((REPO / directory.lstrip("/") / name).is_file() for name in manifest), (ecosystem, directory)
    assert all(update["schedule"]["interval"] == "weekly" for update in updates)
