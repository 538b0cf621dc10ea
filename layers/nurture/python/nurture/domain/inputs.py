"""Hostile input as typed values: msgspec Structs check it, and what is wrong is told per field.

A refinement (cleaning a text, a check across fields) goes in the Struct's `__post_init__`, which raises
`ValidationFailed` naming its field.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from nurture.domain.errors import FieldProblem, MalformedBody, ValidationFailed

T = TypeVar("T")
_AT = re.compile(r" - at (?:`key` in )?`\$\.?(?P<path>[^`]*)`$")
_NAMED = re.compile(r"^Object (?P<kind>missing required|contains unknown) field `(?P<name>[^`]+)`")


def parsed(kind: type[T], data: Any, *, from_text: bool = False) -> T:
    """`data` (already decoded) as `kind`, or `ValidationFailed` naming the field at fault. `from_text`: the
    values are query-string text, converted to numbers and booleans where `kind` asks for them."""
    try:
        return msgspec.convert(data, kind, strict=not from_text)
    except msgspec.ValidationError as error:
        raise ValidationFailed("The request is invalid.", [field_problem(error)]) from error


def decoded(kind: type[T], body: bytes) -> T:
    """A JSON body as `kind`: `MalformedBody` when it is no JSON, `ValidationFailed` when it is the wrong JSON. As
    leniently as pydantic read bodies before (decision 90): "2" for a number, a Unix time for a datetime."""
    try:
        return msgspec.json.decode(body, type=kind, strict=False)
    except msgspec.ValidationError as error:
        raise ValidationFailed("The body is invalid.", [field_problem(error)]) from error
    except msgspec.DecodeError as error:
        raise MalformedBody("The body is not valid JSON.") from error


def field_problem(error: msgspec.ValidationError, prefix: str = "") -> FieldProblem:
    """msgspec says "Expected `int` >= 1 - at `$.limit`" or "Object missing required field `by`": the field, a
    code of the vocabulary the forms use (required, unknown, too_long, invalid), and the text."""
    text = str(error)
    named, at = _NAMED.match(text), _AT.search(text)
    if named:
        missing = named["kind"] == "missing required"
        return FieldProblem(prefix + named["name"], "required" if missing else "unknown",
                            "is required" if missing else "is not a field here")
    where = re.sub(r"\[[^]]*]", "", at["path"]) if at else ""
    message = text[:at.start()] if at else text
    return FieldProblem(prefix + where if where else prefix.rstrip(".") or "body",
                        "too_long" if "of length <=" in message else "invalid", message)
