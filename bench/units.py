"""DynamoDB's capacity rules, closely enough to bill by: item sizes and on-demand request units."""

from __future__ import annotations

import math
from typing import Any

WRITE_UNIT = 1024  # bytes per write request unit
READ_UNIT = 4096  # bytes per strongly consistent read request unit; an eventually consistent read costs half


def item_size(value: Any) -> int:
    """DynamoDB's item size rules, closely enough for read units: names plus values."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in {"S", "N", "BOOL", "NULL", "M", "L",
                                                                              "SS", "NS", "B"}:
        kind, inner = next(iter(value.items()))
        if kind == "S":
            return len(inner.encode())
        if kind == "N":
            return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "SS":
            return sum(len(s.encode()) for s in inner)
        if kind == "M":
            return 3 + sum(len(k.encode()) + item_size(v) + 1 for k, v in inner.items())
        if kind == "L":
            return 3 + sum(item_size(v) + 1 for v in inner)
        return len(inner)
    return sum(len(name.encode()) + item_size(attribute) for name, attribute in value.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT))


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / READ_UNIT)) * (1.0 if consistent else 0.5)
