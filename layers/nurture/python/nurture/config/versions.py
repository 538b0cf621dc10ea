"""Published versions of the marketer config: what `nurture config push` writes and every function reads.

Version 1 is the bundle `cdk deploy` shipped (in the functions' config layer); pushes number from 2. The
store holds each pushed bundle once, never rewritten, and a pointer naming the active one: a function reads
the pointer (cached for a minute) and loads a version whole, so it never mixes two.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

DEPLOYED_VERSION = 1
ACTIVE_KEY = "active.json"  # the store's pointer
VERSIONS_PREFIX = "versions/"  # the store's versions, one object each
BUNDLE_FORMAT = 1


class DamagedRecord(ValueError):
    """A stored version or pointer that is not what `config push` writes: unreadable JSON, a missing or
    mistyped field, another format, a digest that does not match."""


def _record(text: str | bytes, what: str, build: Callable[[dict[str, Any]], Any]) -> Any:
    try:
        return build(json.loads(text))
    except DamagedRecord:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise DamagedRecord(f"the config store's {what} is damaged ({error!r})") from error


def digest(files: Mapping[str, str]) -> str:
    """The bundle's content hash, the same whatever the order its files were read in."""
    canonical = json.dumps(dict(sorted(files.items())), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ConfigVersion(Struct, frozen=True):
    number: int
    files: Mapping[str, str]
    pushed_by: str
    pushed_at: str
    previous: int  # the version that was active when this one was pushed: what a rollback returns to
    based_on: str = ""  # the digest of the deployed version (1) when this one was pushed
    # The files validated, as nurture.config.compiled writes them: a function loads them without validating
    # again when its library made them. Not in the digest: the files are the version; this is a cache of them.
    compiled: str = ""

    def __repr__(self) -> str:  # without the files and their compiled form: a version is its number and digest
        return f"ConfigVersion(number={self.number}, digest={self.digest!r}, pushed_at={self.pushed_at!r})"

    @property
    def digest(self) -> str:
        return digest(self.files)

    def to_json(self) -> str:
        return json.dumps({"format": BUNDLE_FORMAT, "version": self.number, "digest": self.digest,
                           "pushed_by": self.pushed_by, "pushed_at": self.pushed_at, "previous": self.previous,
                           "based_on": self.based_on, "files": dict(sorted(self.files.items())),
                           "compiled": self.compiled},
                          ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> ConfigVersion:
        """Raises DamagedRecord for anything but what `to_json` writes."""
        def build(data: dict[str, Any]) -> ConfigVersion:
            if data.get("format") != BUNDLE_FORMAT:
                raise DamagedRecord(f"config bundle format {data.get('format')!r} is not {BUNDLE_FORMAT}")
            version = cls(number=int(data["version"]), files=dict(data["files"]), pushed_by=str(data["pushed_by"]),
                          pushed_at=str(data["pushed_at"]), previous=int(data["previous"]),
                          based_on=str(data.get("based_on", "")), compiled=str(data.get("compiled", "")))
            if version.digest != data.get("digest"):
                raise DamagedRecord(f"config version {version.number} does not match its digest")
            return version

        result: ConfigVersion = _record(text, "version", build)
        return result


class ActivePointer(Struct, frozen=True):
    """Which version functions use, and who made it so (a push or a rollback)."""

    version: int
    activated_by: str
    activated_at: str
    action: str  # push | rollback

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "activated_by": self.activated_by,
                           "activated_at": self.activated_at, "action": self.action}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ActivePointer:
        """Raises DamagedRecord for anything but what `to_json` writes."""
        pointer: ActivePointer = _record(text, "pointer", lambda data: cls(
            version=int(data["version"]), activated_by=str(data["activated_by"]),
            activated_at=str(data["activated_at"]), action=str(data["action"])))
        return pointer


def deployed_version(files: Mapping[str, str], shipped_by: str, shipped_at: str = "") -> ConfigVersion:
    """Version 1: the bundle a deploy (or `nurture local`) ships."""
    return ConfigVersion(DEPLOYED_VERSION, dict(files), shipped_by, shipped_at, previous=DEPLOYED_VERSION,
                         based_on=digest(files))


def unified_diff(active: Mapping[str, str], proposed: Mapping[str, str], active_label: str,
                 proposed_label: str = "local") -> list[str]:
    """What pushing `proposed` would change, file by file, as `diff -u` prints it."""
    lines: list[str] = []
    for name in sorted(set(active) | set(proposed)):
        before, after = active.get(name), proposed.get(name)
        if before == after:
            continue
        lines += difflib.unified_diff(
            (before or "").splitlines(keepends=True), (after or "").splitlines(keepends=True),
            fromfile=f"{active_label}/{name}" if before is not None else "/dev/null",
            tofile=f"{proposed_label}/{name}" if after is not None else "/dev/null")
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
    return lines
