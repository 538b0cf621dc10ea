"""/v1/console/config: the marketer config's versions (what `nurture config push` published), what each changed,
a change proposed from the page checked and shown as a diff, and, for an admin and only if the page saw the
active version, pushing that change or rolling back to the version before the active one."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Struct

from nurture.adapters.config_store import ConfigStore, Pointer
from nurture.config import NurtureConfig
from nurture.config.loader import read_config_files
from nurture.config.proposals import MAX_FILE_BYTES
from nurture.config.versions import DEPLOYED_VERSION, ActivePointer, ConfigVersion, deployed_version, unified_diff
from nurture.domain.clock import iso, utc_now
from nurture.domain.console.access import ConsoleUser, require
from nurture.domain.console.audit import Change
from nurture.domain.errors import (
    ChangeRefused,
    ConfigInvalid,
    FieldProblem,
    StoreUnavailable,
    ValidationFailed,
    VersionNotFound,
    WriteConflict,
)
from nurture.http.console_routes import CONSOLE, SIGNED_IN, answer, signed_in
from nurture.http.problems import documented, problem_doc
from nurture.http.requests import ApiRequest
from nurture.http.router import Input, Parameters, Response, Router
from nurture.http.services import audit_log, campaign_store
from nurture.settings import runtime_settings

VERSIONS_SHOWN = 20


class VersionRef(Parameters):
    number: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="A config version's number")]


ConfigFiles = Annotated[dict[str, Annotated[str, msgspec.Meta(max_length=MAX_FILE_BYTES)]], msgspec.Meta(
    max_length=40, description="config files by their name in the bundle (scoring.yaml, templates/x.yaml...): "
                               "each replaces the active version's file of that name")]


class ProposedChange(Input):
    files: ConfigFiles
    expected_version: Annotated[int, msgspec.Meta(ge=1, description="the active version the page read the files "
                                                                    "of: a newer one makes a check or push a 409")]


class RollbackBody(Input):
    expected_version: Annotated[int, msgspec.Meta(ge=1, description="the active version the page showed: a newer "
                                                                    "one makes the rollback a 409")]


def _store() -> ConfigStore:
    return ConfigStore(runtime_settings().config_bucket)


def _version(number: int) -> ConfigVersion:
    """A version by number; 1 is what the deploy shipped, in this function's config layer."""
    if number == DEPLOYED_VERSION:
        return deployed_version(read_config_files(runtime_settings().config_dir), "cdk deploy")
    try:
        return _store().version(number)
    except StoreUnavailable as missing:
        if number in _store().numbers():
            raise
        raise VersionNotFound(f"There is no config version {number}.") from missing


class _Checked(Struct, frozen=True):
    active: ConfigVersion  # the version the change is made to
    bundle: dict[str, str]  # its files with the change
    problems: list[str]  # every problem a push would meet (as `nurture config push` checks a folder, less what
    config: NurtureConfig | None  # only the CLI can do); the validated config when there are none


def _checked(files: dict[str, str], seen: int) -> _Checked:
    """A change the page proposes to version `seen`, checked."""
    from nurture.config.loader import load_config_files
    from nurture.config.proposals import console_push_problems, late_campaigns, proposed_bundle

    active = _version(seen)
    try:
        bundle = proposed_bundle(active.files, files)
    except ConfigInvalid as refused:
        raise ValidationFailed("Only config files are edited here.",
                               [FieldProblem("files", "invalid", problem) for problem in refused.problems]) from refused
    try:
        config = load_config_files(bundle, "proposed", check_template_syntax=True)
        before = load_config_files(active.files, f"v{seen}")
    except ConfigInvalid as invalid:
        return _Checked(active, bundle, invalid.problems, None)
    problems = late_campaigns(config, before.campaigns.campaigns, utc_now(), campaign_store())
    problems += console_push_problems(config, before)
    return _Checked(active, bundle, problems, None if problems else config)


def _as_seen(version: int, expected_version: int) -> None:
    if version != expected_version:
        raise ChangeRefused(f"The active version is now {version}, not {expected_version}: look again.")


def _admin_change(request: ApiRequest, expected_version: int) -> tuple[ConsoleUser, ConfigStore, Pointer]:
    """Who changes the active version (an admin), the store, and the pointer as read: only if the version is
    still the one their page showed (a stale page never overwrites a newer version)."""
    user = signed_in(request)
    require(user, "config:write")
    store = _store()
    seen = store.pointer()
    _as_seen(seen.version, expected_version)
    return user, store, seen


def _summary(version: ConfigVersion) -> dict[str, object]:
    return {"number": version.number, "pushed_by": version.pushed_by, "pushed_at": version.pushed_at,
            "previous": version.previous, "digest": version.digest[:12], "files": sorted(version.files)}


def register_config_routes(app: Router) -> None:
    @app.get("/v1/console/config", summary="The active config version, who made it so, and the latest versions",
             **CONSOLE, responses={200: documented("The versions", "application/json"), **SIGNED_IN})
    def versions() -> Response:
        require(signed_in(app.current_request), "config:read")
        pointer = _store().pointer()
        numbers = _store().numbers()[::-1][:VERSIONS_SHOWN]  # newest first
        shown = [_summary(_version(number)) for number in numbers]
        if len(shown) < VERSIONS_SHOWN:
            shown.append({"number": DEPLOYED_VERSION, "pushed_by": "cdk deploy", "pushed_at": None,
                          "previous": None, "digest": None, "files": None})
        active = pointer.active
        return answer(200, {"active": {"version": pointer.version, "activated_by": active.activated_by if active
                                       else None, "activated_at": active.activated_at if active else None,
                                       "action": active.action if active else "deploy"},
                            "versions": shown})

    @app.get("/v1/console/config/versions/<number>/diff", summary="What a config version changed against the one "
             "active before it, as `diff -u` prints it", parameters=VersionRef, **CONSOLE,
             responses={200: documented("The diff", "application/json"), 404: problem_doc("No such version"),
                        **SIGNED_IN})
    def diff(number: int) -> Response:
        require(signed_in(app.current_request), "config:read")
        version = _version(number)
        before = _version(version.previous) if number != DEPLOYED_VERSION else version
        return answer(200, {"number": number, "against": before.number, "diff": "".join(unified_diff(
            before.files, version.files, f"v{before.number}", f"v{number}"))})

    @app.get("/v1/console/config/files", summary="The active version's files, to edit on the page",
             **CONSOLE, responses={200: documented("The files", "application/json"), **SIGNED_IN})
    def files() -> Response:
        require(signed_in(app.current_request), "config:read")
        seen = _store().pointer().version
        return answer(200, {"version": seen, "files": _version(seen).files})

    @app.post("/v1/console/config/check", summary="Check a change to the active version's files as a push would, "
              "and show what it changes, without storing anything", body=ProposedChange, **CONSOLE,
              responses={200: documented("The problems found and the diff", "application/json"),
                         409: problem_doc("The active version is not the one the page read"),
                         422: problem_doc("Not config files"), **SIGNED_IN})
    def check(body: ProposedChange) -> Response:
        require(signed_in(app.current_request), "config:read")
        seen = _store().pointer().version
        _as_seen(seen, body.expected_version)
        checked = _checked(body.files, seen)
        return answer(200, {"version": seen, "problems": checked.problems, "diff": "".join(
            unified_diff(checked.active.files, checked.bundle, f"v{seen}", "proposed"))})

    @app.post("/v1/console/config/push", summary="Publish a change to the active version's files as the next "
              "version and make it active (admins)", body=ProposedChange, **CONSOLE,
              responses={200: documented("The version now active", "application/json"),
                         409: problem_doc("The active version is not the one the page showed"),
                         422: problem_doc("The change has problems: nothing was pushed"), **SIGNED_IN})
    def push(body: ProposedChange) -> Response:
        from nurture.config.compiled import CompileFailed, compiled_json
        from nurture.config.versions import digest

        user, store, seen = _admin_change(app.current_request, body.expected_version)
        now = utc_now()
        checked = _checked(body.files, seen.version)
        if checked.config is None:
            raise ValidationFailed(f"{len(checked.problems)} problem(s): nothing was pushed.",
                                   [FieldProblem("files", "invalid", problem) for problem in checked.problems])
        bundle = checked.bundle
        if digest(bundle) == checked.active.digest:
            raise ChangeRefused(f"This is what version {seen.version} already has: nothing to push.")
        try:
            compiled = compiled_json(checked.config, digest(bundle))
        except CompileFailed:
            compiled = ""  # functions validate this version's files at each cold start instead
        try:
            version = store.publish(bundle, user.recorded_as, iso(now), based_on=_version(DEPLOYED_VERSION).digest,
                                    seen=seen, compiled=compiled)
        except WriteConflict as conflict:
            raise ChangeRefused("Someone changed the active version meanwhile: look again.") from conflict
        audit_log().record(Change(user.recorded_as, "config.push", str(version.number), now,
                                  {"from_version": seen.version, "files": ",".join(sorted(body.files))}))
        return answer(200, {"version": version.number, "was": seen.version})

    @app.post("/v1/console/config/rollback", summary="Make the version before the active one active again (admins)",
              body=RollbackBody, **CONSOLE,
              responses={200: documented("The version now active", "application/json"),
                         409: problem_doc("The active version is not the one the page showed, or is the deploy's"),
                         **SIGNED_IN})
    def rollback(body: RollbackBody) -> Response:
        user, store, seen = _admin_change(app.current_request, body.expected_version)
        now = utc_now()
        if seen.version == DEPLOYED_VERSION:
            raise ChangeRefused("The active version is 1, shipped by the deploy: there is nothing before it.")
        previous = store.version(seen.version).previous
        try:
            store.activate(ActivePointer(previous, user.recorded_as, iso(now), "rollback"), seen)
        except WriteConflict as conflict:
            raise ChangeRefused("Someone changed the active version meanwhile: look again.") from conflict
        audit_log().record(Change(user.recorded_as, "config.rollback", str(previous), now,
                                  {"from_version": seen.version}))
        return answer(200, {"version": previous, "was": seen.version})
