"""The config bundle as already-validated JSON: what a function loads at a cold start instead of parsing YAML and
validating it (docs/decisions.md, decision 73).

`nurture config check`'s validation runs where the bundle is made (`cdk synth`, `nurture config push`); the
result, dumped as JSON, is rebuilt here into the same models without validating again. It is used only by the
same library that made it: a compiled document names the fingerprint of the library's source, and one made by
another library (an older CLI's push, say) is refused, so the caller validates the YAML files instead.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

from nurture.config.bundle import NurtureConfig
from nurture.config.records import dumped

COMPILED_FILE = "compiled.json"  # beside the YAML files in the deployed config layer
FORMAT = 1
LIBRARY = Path(__file__).resolve().parent.parent  # the nurture package
DEVELOPER_TOOLS = ("cli", "local")  # never shipped to Lambda: not part of what a function runs
FINGERPRINT_FILE = "library.sha256"  # in the staged library layer only, never in the source tree


class CompileFailed(ValueError):
    """A validated config this module cannot write as it would read back: functions validate its files."""




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
    by reading it back: a field the rebuild cannot make, or makes unequal, raises CompileFailed here (at synth or
    push), never in a function. Every field is written, defaults too: rebuilding runs no default factory."""
    written = dumped(NurtureConfig, config)
    try:
        same = rebuilt(written) == config
    except (TypeError, msgspec.ValidationError) as error:
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
        config = rebuilt(document["config"])
    except (ValueError, KeyError, TypeError, AttributeError, msgspec.ValidationError):
        return None
    return config



def rebuilt(written: Any) -> NurtureConfig:
    """The config as `dumped` wrote it, back as its dataclasses (msgspec reads the types from their annotations;
    each class's `__post_init__` runs, pydantic's validation does not)."""
    return msgspec.convert(written, NurtureConfig)
