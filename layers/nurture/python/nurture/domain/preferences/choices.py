"""A lead's choice per subscription type, as the profile keeps it: `subscriptions.<type>` holds `choice`
(in, out, or not_asked: a form that starts the type off until the lead opts in), `at` and `via` (form,
preference_page, one_click, import, sales_api, reply). A type without an entry follows the type's default."""

from __future__ import annotations

from typing import Any

from nurture.config.subscriptions import SubscriptionsConfig


def opted_out_of(profile: dict[str, Any]) -> list[str]:
    """The types the lead chose to leave, in name order."""
    chosen = profile.get("subscriptions") or {}
    return sorted(kind for kind, choice in chosen.items() if isinstance(choice, dict) and choice.get("choice") == "out")


def subscribed(profile: dict[str, Any], type_id: str, subscriptions: SubscriptionsConfig) -> bool:
    """Whether the lead receives emails of this type (`type_id`: one the config has, as `config check` makes
    sure of every campaign's and sequence's)."""
    chosen = (profile.get("subscriptions") or {}).get(type_id)
    if isinstance(chosen, dict) and chosen.get("choice") in ("in", "out", "not_asked"):
        return bool(chosen["choice"] == "in")
    return subscriptions.types[type_id].default == "opted_in"
