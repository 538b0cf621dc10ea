"""Who may see and do what in the console. The HTTP API's JWT authorizer has checked the token (its signature,
issuer, audience and expiry); each route checks the user's Cognito groups here as well."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from msgspec import Struct

from nurture.config.sales import SalesConfig
from nurture.domain.errors import Forbidden, NotSignedIn

Group = Literal["admin", "marketer", "sales"]
GROUPS: tuple[Group, ...] = ("admin", "marketer", "sales")
GROUPS_CLAIM = "cognito:groups"

# What each right needs: any one of these groups. Sales read leads too, their own only (`visible_owner`).
RIGHTS: dict[str, frozenset[Group]] = {
    "leads:read": frozenset({"admin", "marketer", "sales"}),
    "leads:read_all": frozenset({"admin", "marketer"}),
    "leads:erase": frozenset({"admin"}),
    "leads:reassign": frozenset({"admin", "marketer"}),
    "home:read": frozenset({"admin", "marketer"}),
    "sending:resume": frozenset({"admin"}),
    "campaigns:read": frozenset({"admin", "marketer"}),
    "campaigns:write": frozenset({"admin", "marketer"}),
    "segments:read": frozenset({"admin", "marketer"}),
    "config:read": frozenset({"admin", "marketer"}),
    "config:write": frozenset({"admin"}),
}


class ConsoleUser(Struct, frozen=True):
    subject: str  # Cognito's `sub`: who, in the record of every change
    email: str | None
    groups: frozenset[Group]
    language: Literal["ja", "en"] = "ja"

    def may(self, right: str) -> bool:
        return bool(self.groups & RIGHTS[right])

    @property
    def recorded_as(self) -> str:
        """Who the record of a change names: the address people know them by, else Cognito's subject."""
        return self.email or self.subject


def console_user(claims: Mapping[str, Any]) -> ConsoleUser:
    """The signed-in user from the token's claims, as the JWT authorizer passes them (a list claim arrives as
    one string, "[admin marketer]"). No subject: nobody signed in."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise NotSignedIn("Sign in to use the console.")
    # Cognito says email_verified "false" of an address its user has not confirmed: it names nobody's leads.
    email = claims.get("email") if str(claims.get("email_verified", "true")).lower() != "false" else None
    language: Literal["ja", "en"] = "en" if str(claims.get("locale", "")).lower().startswith("en") else "ja"
    groups = frozenset(group for group in GROUPS if group in _listed(claims.get(GROUPS_CLAIM)))
    return ConsoleUser(subject, email if isinstance(email, str) else None, groups, language)


def _listed(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, str):
        return value.strip("[]").split()  # the authorizer's "[admin marketer]"
    return []


def require(user: ConsoleUser, right: str) -> None:
    if not user.may(right):
        raise Forbidden(f"Your groups ({', '.join(sorted(user.groups)) or 'none'}) do not allow this.")


def visible_owner(user: ConsoleUser, sales: SalesConfig) -> str | None:
    """None when the user sees every lead; else the salesperson id whose leads alone they see (their verified
    email's, in config/sales.yaml). A sales user no salesperson matches sees nothing."""
    require(user, "leads:read")
    if user.may("leads:read_all"):
        return None
    mine = next((person_id for person_id, person in sales.people.items()
                 if user.email and person.email.lower() == user.email.lower()), None)
    if mine is None:
        raise Forbidden("No salesperson in config/sales.yaml has your email address.")
    return mine
