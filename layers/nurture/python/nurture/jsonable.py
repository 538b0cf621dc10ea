"""DynamoDB gives numbers back as Decimal and string sets as set: make them JSON-ready."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """Decimal -> int or float, set -> sorted list, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, set):
        return sorted(plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def json_default(value: Any) -> Any:
    """For json.dumps(default=...)."""
    if isinstance(value, Decimal | set):
        return plain(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
