"""/v1/console/config: the marketer config's versions (what `nurture config push` published), what each changed,
and a rollback to the version before the active one, for an admin, only if the page saw the active version."""

from __future__ import annotations

from typing import Annotated

import msgspec

from nurture.adapters.config_store import ConfigStore
from nurture.config.loader import read_config_files
from nurture.config.versions import DEPLOYED_VERSION, ActivePointer, ConfigVersion, deployed_version, unified_diff
from nurture.domain.clock import iso, utc_now
from nurture.domain.console.access import require
from nurture.domain.console.audit import Change
from nurture.domain.errors import ChangeRefused, StoreUnavailable, VersionNotFound, WriteConflict
from nurture.http.console_routes import CONSOLE, SIGNED_IN, answer, signed_in
from nurture.http.problems import documented, problem_doc
from nurture.http.router import Input, Parameters, Response, Router
from nurture.http.services import audit_log
from nurture.settings import runtime_settings

VERSIONS_SHOWN = 20


class VersionRef(Parameters):
    number: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="A config version's number")]


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


def _summary(version: ConfigVersion) -> dict[str, object]:
    return {"number": version.number, "pushed_by": version.pushed_by, "pushed_at": version.pushed_at,
            "previous": version.previous, "digest": version.digest[:12], "files": sorted(version.files)}


def register_config_routes(app: Router) -> None:
    @app.get("/v1/console/config", summary="The active config version, who made it so, and the latest versions",
             **CONSOLE, responses={200: documented("The versions", "application/json"), **SIGNED_IN})
    def versions() -> Response:
        require(signed_in(app.current_event), "config:read")
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
        require(signed_in(app.current_event), "config:read")
        version = _version(number)
        before = _version(version.previous) if number != DEPLOYED_VERSION else version
        return answer(200, {"number": number, "against": before.number, "diff": "".join(unified_diff(
            before.files, version.files, f"v{before.number}", f"v{number}"))})

    @app.post("/v1/console/config/rollback", summary="Make the version before the active one active again (admins)",
              body=RollbackBody, **CONSOLE,
              responses={200: documented("The version now active", "application/json"),
                         409: problem_doc("The active version is not the one the page showed, or is the deploy's"),
                         **SIGNED_IN})
    def rollback(body: RollbackBody) -> Response:
        user = signed_in(app.current_event)
        require(user, "config:write")
        store, now = _store(), utc_now()
        seen = store.pointer()
        if seen.version != body.expected_version:
            raise ChangeRefused(f"The active version is now {seen.version}, not {body.expected_version}: look again.")
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
