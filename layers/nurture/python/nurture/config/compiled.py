"""The config bundle as already-validated JSON: what a function loads at a cold start instead of parsing YAML and
validating it (docs/decisions.md, decision 73).

`nurture config check`'s validation runs where the bundle is made (`cdk synth`, `nurture config push`); the
result, dumped as JSON, is rebuilt here into the same models without validating again. It is used only by the
same library that made it: a compiled document names the fingerprint of the library's source, and one made by
another library (an older CLI's push, say) is refused, so the caller validates the YAML files instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

from nurture.config.bundle import NurtureConfig
from nurture.config.records import dumped

COMPILED_FILE = "compiled.json"  # beside the YAML files in the deployed config layer
FORMAT = 1
LIBRARY = Path(__file__).resolve().parent.parent  # the nurture package
DEVELOPER_TOOLS = ("cli", "local")  # never shipped to Lambda: not part of what a function runs
FINGERPRINT_FILE = "library.sha256"  # in the staged library layer only, never in the source tree


class CompileFailed(ValueError):
    """A validated config this module cannot write as it would read back: functions validate its files."""


_ISO_TIMES: dict[Any, type[date] | type[time]] = {date: date, datetime: datetime, time: time}


@cache
def library_fingerprint() -> str:
    """The shipped library's source: the same wherever the same code runs. The library layer carries it
    (FINGERPRINT_FILE, written by `cdk synth`), which spares a cold start hashing the package."""
    written = LIBRARY / FINGERPRINT_FILE
    return written.read_text(encoding="ascii").strip() if written.is_file() else source_fingerprint(LIBRARY)


def source_fingerprint(package: Path) -> str:
    """A hash of `package`'s Python source, without the developer tools (Lambda has no cli/ nor local/)."""
    hasher = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] not in DEVELOPER_TOOLS:
            hasher.update(relative.as_posix().encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


def compiled_json(config: NurtureConfig, digest: str) -> str:
    """`config` (validated from the bundle whose digest is `digest`) as the JSON `from_compiled` reads. Checked
    by reading it back: a field `rebuilt` cannot make, or makes unequal, raises CompileFailed here (at synth or
    push), never in a function. Every field is written, defaults too: rebuilding runs no default factory."""
    written = dumped(NurtureConfig, config)
    try:
        same = rebuilt(NurtureConfig, written) == config
    except (TypeError, ValueError) as error:
        raise CompileFailed(f"the config cannot be compiled: {error}") from error
    if not same:
        raise CompileFailed("the compiled config does not read back as the validated one (a NaN in a range?)")
    return json.dumps({"format": FORMAT, "library": library_fingerprint(), "digest": digest, "config": written},
                      ensure_ascii=False, separators=(",", ":"))


def from_compiled(text: str | bytes, digest: str | None = None) -> NurtureConfig | None:
    """The config `compiled_json` wrote; None when another library made it, it is not of the bundle with
    `digest` (when given) or it is damaged: the caller then validates the files."""
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT or document.get("library") != library_fingerprint() or \
                (digest is not None and document.get("digest") != digest):
            return None
        config: NurtureConfig = rebuilt(NurtureConfig, document["config"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return config


def rebuilt(annotation: Any, value: Any) -> Any:
    """`value`, as `dumped` wrote it, back as the type `annotation` says: each class's `__post_init__` runs,
    pydantic's validation does not."""
    if value is None:
        return None
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        hints = _field_types(annotation)
        return annotation(**{name: rebuilt(hints[name], item) for name, item in value.items()})
    if origin is typing.Annotated:
        return rebuilt(arguments[0], value)
    if origin in (typing.Union, types.UnionType):
        (present,) = [argument for argument in arguments if argument is not type(None)]  # only `X | None`
        return rebuilt(present, value)
    if origin is typing.Literal or annotation in (str, int, bool, Any):
        return value
    if annotation is float:
        return float(value)
    if origin in (dict, Mapping):
        return {key: rebuilt(arguments[1], item) for key, item in value.items()}
    if origin in (list, Sequence):
        return [rebuilt(arguments[0], item) for item in value]
    if origin in (set, frozenset):
        return origin(rebuilt(arguments[0], item) for item in value)
    if origin is tuple:
        items = arguments[:1] * len(value) if arguments[-1:] == (Ellipsis,) else arguments
        return tuple(rebuilt(item_type, item) for item_type, item in zip(items, value, strict=True))
    if annotation in _ISO_TIMES:
        return _ISO_TIMES[annotation].fromisoformat(value)
    raise TypeError(f"the compiled config cannot rebuild a {annotation!r}")


@cache
def _field_types(model: type) -> dict[str, Any]:
    """Each field's type, its annotation evaluated once per class."""
    return typing.get_type_hints(model, include_extras=True)
