"""The shape every config model takes: a frozen standard-library dataclass, validated by pydantic only where a
bundle is checked (`nurture config check`, `cdk synth`, `nurture config push`, a function without the compiled
config). A function's cold start builds these classes without importing pydantic (docs/decisions.md, decision 89).

pydantic validates a standard dataclass as it would a model: `setting(...)` carries pydantic's `Field` arguments
(constraints, alias, description) as the dataclass field's metadata, `Check` is an after-validator on a field's
type, `__post_init__` is the model's after-validator, and `__pydantic_config__` forbids unknown keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

Model = TypeVar("Model")
FORBID_UNKNOWN_KEYS = {"extra": "forbid"}  # pydantic's ConfigDict, as the plain dict it is: a typo must not pass
EXTRA_KEY = "Extra inputs are not permitted"


def setting(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
            **constraints: Any) -> Any:
    """A field with its default (or factory) and what pydantic checks of it (`ge`, `max_length`, `pattern`,
    `alias`, `description`...), which pydantic reads from the dataclass field's metadata."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata=constraints)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(setting,))
def record(cls: type[Model]) -> type[Model]:
    """`cls` as a config model: frozen, keyword-only, unknown keys refused when validated.

    The dataclass module reads the fields; the methods are the ones below, shared by every record, rather than
    the ones it compiles for each class (about 0.5 ms a class at every cold start: 30 ms for the config's 60).
    pydantic and msgspec fill a dataclass's fields themselves, past `__setattr__`, and call `__post_init__`."""
    cls.__pydantic_config__ = FORBID_UNKNOWN_KEYS  # type: ignore[attr-defined]
    made = dataclasses.dataclass(init=False, repr=False, eq=False, match_args=False, kw_only=True)(cls)
    for name, method in _SHARED.items():
        setattr(made, name, method)
    return made


def _init(self: Any, **values: Any) -> None:
    fields = {field.name: field for field in dataclasses.fields(self)}  # not ClassVar or InitVar pseudo-fields
    for name in values.keys() - fields.keys():
        raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument '{name}'")
    for name, field in fields.items():
        if name in values:
            value = values[name]
        elif field.default is not dataclasses.MISSING:
            value = field.default
        elif field.default_factory is not dataclasses.MISSING:
            value = field.default_factory()
        else:
            raise TypeError(f"{type(self).__name__}.__init__() missing 1 required keyword-only argument: '{name}'")
        object.__setattr__(self, name, value)
    if hasattr(self, "__post_init__"):
        self.__post_init__()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, field.name) for field in dataclasses.fields(self))


def _eq(self: Any, other: object) -> bool:
    return _values(self) == _values(other) if other.__class__ is self.__class__ else NotImplemented


def _frozen(self: Any, name: str, *_: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _repr(self: Any) -> str:
    shown = ", ".join(f"{field.name}={getattr(self, field.name)!r}" for field in dataclasses.fields(self))
    return f"{type(self).__qualname__}({shown})"


_SHARED = {"__init__": _init, "__eq__": _eq, "__hash__": lambda self: hash(_values(self)), "__repr__": _repr,
           "__setattr__": _frozen, "__delattr__": _frozen}


class Check:
    """`Annotated[T, Check(function)]`: after pydantic has validated a T, `function` checks it (a ValueError with
    what is wrong) and returns it, normalized if need be. pydantic-core is imported only when a validator is
    built, never when the class is."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.function, handler(source))


class Pattern:
    """`Annotated[str, Pattern(regex)]`: pydantic's own pattern check (and words), for a string inside a list or a
    dict's values, where no field metadata reaches."""

    def __init__(self, regex: str) -> None:
        self.regex = regex

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        return core_schema.str_schema(pattern=self.regex)


def problem_text(error: Any) -> str:
    """What one of pydantic's errors says, in the words its models use: an unknown key of a dataclass is worded
    as a call's unexpected keyword, which a marketer editing YAML would not recognise."""
    if error["type"] == "dataclass_type":  # what a model says of a value that is no mapping
        return f"Input should be a valid dictionary or instance of {error['ctx']['class_name']}"
    return EXTRA_KEY if error["type"] == "unexpected_keyword_argument" else str(error["msg"])


_adapters: dict[Any, Any] = {}  # a TypeAdapter per model, built on first use


def _adapter(model: Any) -> Any:
    from pydantic import TypeAdapter

    if model not in _adapters:
        _adapters[model] = TypeAdapter(model)
    return _adapters[model]


def validated(model: type[Model], data: Any) -> Model:
    """`data` (parsed YAML or JSON) validated as `model`; pydantic's ValidationError says what is wrong."""
    result: Model = _adapter(model).validate_python(data)
    return result


def dumped(model: type[Model], value: Model, **options: Any) -> Any:
    """`value` as JSON-ready data (`options` as pydantic's `dump_python` takes them: `by_alias`, `exclude_none`)."""
    return _adapter(model).dump_python(value, mode="json", **options)
