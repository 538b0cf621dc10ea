"""Pushed config versions under moto: one version per invocation, compare-and-set pointer, rollbacks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from nurture.adapters.config_store import ConfigStore, version_key
from nurture.config.loader import read_config_files
from nurture.config.versions import DEPLOYED_VERSION, ActivePointer, ConfigVersion
from nurture.domain.errors import WriteConflict
from nurture.local.resources import LocalResources
from nurture.settings import active_config, pin_config, reload
from tests.conftest import CONFIG_DIR

NOW = "2026-12-02T09:00:00.000000Z"


@pytest.fixture
def store(aws: None, monkeypatch: pytest.MonkeyPatch) -> ConfigStore:
    monkeypatch.setenv("CONFIG_MAX_AGE_SECONDS", "1")
    reload()
    return ConfigStore(LocalResources().config_bucket)


def with_title(title: str) -> dict[str, str]:
    files = read_config_files(CONFIG_DIR)
    files["forms.yaml"] = files["forms.yaml"].replace("title: お問い合わせ\n", f"title: {title}\n", 1)
    assert title in files["forms.yaml"]
    return files


def contact_title() -> str:
    return active_config().config.forms["contact"].title


def test_an_invocation_keeps_the_version_it_started_with_while_a_push_lands(store: ConfigStore):
    seen: list[tuple[int, str]] = []

    @pin_config
    def handler(event: Any, context: Any) -> None:
        seen.append((active_config().version, contact_title()))
        if event == "push meanwhile":
            store.publish(with_title("新しいお問い合わせ"), "marketing", NOW)
            time.sleep(1.1)  # the pointer's cache has run out: a new invocation would see the push
        seen.append((active_config().version, contact_title()))

    handler("push meanwhile", None)
    handler("next", None)

    assert seen == [(1, "お問い合わせ"), (1, "お問い合わせ"), (2, "新しいお問い合わせ"), (2, "新しいお問い合わせ")]


def test_a_version_this_code_cannot_validate_is_skipped_and_the_last_good_one_kept(store: ConfigStore):
    store.publish(with_title("第二版"), "marketing", NOW)
    assert contact_title() == "第二版"
    broken = with_title("第三版")
    broken["scoring.yaml"] = broken["scoring.yaml"].replace("half_life_days: 30", "half_life_days: -1")
    store.publish(broken, "a newer release's CLI", NOW)
    time.sleep(1.1)

    assert (active_config().version, contact_title()) == (2, "第二版")
    reload()  # a cold container agrees: the version before the broken one, not the deployed one
    assert (active_config().version, contact_title()) == (2, "第二版")


def test_a_damaged_pointer_leaves_functions_serving_the_deployed_version(store: ConfigStore):
    store._s3.put_object(Bucket=store.bucket, Key="active.json", Body=b"{not json")

    assert (active_config().version, contact_title()) == (1, "お問い合わせ")


def test_an_unreadable_store_keeps_the_version_already_loaded(store: ConfigStore, monkeypatch: pytest.MonkeyPatch):
    store.publish(with_title("第二版"), "marketing", NOW)
    assert active_config().version == 2
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    from nurture.adapters.aws import reset_clients

    reset_clients()
    time.sleep(1.1)

    assert (active_config().version, contact_title()) == (2, "第二版")


def test_a_push_or_rollback_that_lost_a_race_changes_nothing(store: ConfigStore):
    before_any = store.pointer()
    store.publish(with_title("先に公開"), "alice", NOW)
    with pytest.raises(WriteConflict):
        store.activate(ActivePointer(DEPLOYED_VERSION, "bob", NOW, "rollback"), before_any)

    seen = store.pointer()
    store.publish(with_title("次に公開"), "alice", NOW)
    with pytest.raises(WriteConflict):
        store.activate(ActivePointer(2, "bob", NOW, "rollback"), seen)
    assert store.pointer().version == 3


def test_versions_are_kept_whole_and_rollbacks_walk_back_to_the_deployed_one(store: ConfigStore):
    second = store.publish(with_title("第二版"), "alice", NOW)
    third = store.publish(with_title("第三版"), "bob", NOW)
    assert (second.number, second.previous, third.number, third.previous) == (2, 1, 3, 2)
    assert ConfigVersion.from_json(
        store._s3.get_object(Bucket=store.bucket, Key=version_key(3))["Body"].read()).files == third.files

    store.activate(ActivePointer(third.previous, "carol", NOW, "rollback"), store.pointer())
    assert store.pointer().version == 2
    store.activate(ActivePointer(store.version(2).previous, "carol", NOW, "rollback"), store.pointer())
    assert store.pointer().active is None and store.numbers() == [2, 3]  # back to the deploy's; nothing deleted


def test_a_damaged_bundle_is_refused_by_its_digest():
    text = ConfigVersion(2, {"api.yaml": "{}"}, "alice", NOW, 1).to_json().replace('"{}"', '"{x}"')

    with pytest.raises(ValueError, match="does not match its digest"):
        ConfigVersion.from_json(text)


def test_work_made_with_a_version_gets_that_version_or_an_error_never_the_one_serving_in_its_place(
        store: ConfigStore):
    from nurture.domain.errors import ConfigInvalid
    from nurture.settings import config_version

    store.publish(with_title("第二版"), "marketing", NOW)
    broken = with_title("第三版")
    broken["scoring.yaml"] = broken["scoring.yaml"].replace("half_life_days: 30", "half_life_days: -1")
    store.publish(broken, "a newer release's CLI", NOW)
    assert active_config().version == 2  # version 2 serves while 3 is the pointer's

    assert config_version(2).forms["contact"].title == "第二版"
    with pytest.raises(ConfigInvalid):  # a campaign scheduled with version 3 is not sent with version 2's
        config_version(3)


@pytest.mark.parametrize("pointer", [b"{not json", b'{"version": 3}', b'{"version": "three", "activated_by": "x", '
                                     b'"activated_at": "x", "action": "push"}', b"[]"])
def test_a_damaged_pointer_is_a_store_problem_for_the_cli_too_never_a_crash(store: ConfigStore, pointer: bytes):
    from nurture.domain.errors import StoreUnavailable

    store._s3.put_object(Bucket=store.bucket, Key="active.json", Body=pointer)

    with pytest.raises(StoreUnavailable, match="pointer is damaged"):
        store.pointer()
    assert active_config().version == 1  # and functions serve the deployed version


def compiled(files: dict[str, str]) -> str:
    from nurture.config.compiled import compiled_json
    from nurture.config.loader import load_config_files
    from nurture.config.versions import digest

    return compiled_json(load_config_files(files, "test"), digest(files))


def test_a_version_pushed_with_its_compiled_config_loads_without_validating(store: ConfigStore,
                                                                            monkeypatch: pytest.MonkeyPatch):
    files = with_title("コンパイル済み")
    store.publish(files, "marketing", NOW, compiled=compiled(files))
    reload()

    def no_validation(*_: Any, **__: Any) -> None:
        raise AssertionError("the compiled config was validated again")

    monkeypatch.setattr("nurture.config.loader.load_config_files", no_validation)
    assert (active_config().version, contact_title()) == (2, "コンパイル済み")


def test_a_compiled_config_of_other_files_or_another_library_gives_way_to_the_files(store: ConfigStore,
                                                                                    monkeypatch: pytest.MonkeyPatch):
    pushed = with_title("ファイルの方")
    store.publish(pushed, "marketing", NOW, compiled=compiled(with_title("別のファイル")))
    reload()
    assert contact_title() == "ファイルの方"

    store.publish(pushed, "an older release's CLI", NOW, compiled=compiled(pushed))
    monkeypatch.setattr("nurture.config.compiled.library_fingerprint", lambda: "another library")
    reload()
    assert (active_config().version, contact_title()) == (3, "ファイルの方")
