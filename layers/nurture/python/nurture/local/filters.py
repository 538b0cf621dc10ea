"""Lambda event filtering, for the patterns the stack uses, so local delivery matches AWS's.

Supported: nested objects, lists of exact values, and the `prefix`, `exists` and `anything-but`
operators (see the Lambda developer guide, "Lambda event filtering").
"""

from __future__ import annotations

from typing import Any


def matches(pattern: dict[str, Any], record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    for key, expected in pattern.items():
        present = key in record
        value = record.get(key)
        if isinstance(expected, dict):
            if not present or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not any(_matches_rule(rule, present, value) for rule in expected):
                return False
        else:
            raise ValueError(f"filter values must be objects or lists, got {expected!r} for {key}")
    return True


def _matches_rule(rule: Any, present: bool, value: Any) -> bool:
    if isinstance(rule, dict):
        if "exists" in rule:
            return present is bool(rule["exists"])
        if "prefix" in rule:
            return present and isinstance(value, str) and value.startswith(rule["prefix"])
        if "anything-but" in rule:
            excluded = rule["anything-but"] if isinstance(rule["anything-but"], list) else [rule["anything-but"]]
            return present and value not in excluded
        raise ValueError(f"unsupported filter operator {rule!r}")
    return present and value == rule
