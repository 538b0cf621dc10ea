"""How accounts are scored (issue 24), under scoring.yaml's `accounts`: a company's fit is its best-fitting
person's, its engagement its people's combined, and its buying group the roles its people's titles and
departments name. Every value has a default."""

from __future__ import annotations

from typing import Literal

from nurture.config.matching import EventMatch
from nurture.config.records import record, setting

PATTERN_ID = r"^[a-z][a-z0-9_]{0,63}$"


def _default_roles() -> dict[str, list[str]]:
    return {
        "decision_maker": ["取締役", "役員", "社長", "代表", "執行役", "本部長", "CEO", "CTO", "CIO", "CFO", "COO",
                           "President", "VP", "Vice President", "Director", "Chief"],
        "manager": ["部長", "課長", "室長", "マネージャー", "マネジャー", "Manager", "Head"],
        "staff": ["担当", "主任", "係長", "スタッフ", "Staff", "Specialist", "Coordinator", "Analyst", "Engineer"],
        "it": ["情報システム", "情シス", "システム部", "IT", "DX", "Information Systems"],
    }


@record
class AccountPattern:
    """Makes an account hot: enough of its people did something (`when`; any of their activity if not given)
    within `within_days`, and among them every role `roles` names."""

    id: str = setting(pattern=PATTERN_ID)
    when: EventMatch | None = setting(default=None, description="the activity that counts; any of a person's if "
                                      "not given")
    people: int = setting(default=1, ge=1, le=50, description="at least this many different people did it")
    roles: list[str] = setting(default_factory=list, description="buying-group roles held among them")
    within_days: int = setting(ge=1, le=90, description="counted over this many days (today's included)")
    reason: str = setting(min_length=1)


@record
class AccountScoring:
    engagement: Literal["sum", "max"] = setting(default="sum", description=(
        "an account's engagement: its people's engagement added up (a buying group at work), or its most engaged "
        "person's"))
    roles: dict[str, list[str]] = setting(default_factory=_default_roles, description=(
        "buying-group roles by the keywords of a person's title or department (Japanese anywhere, Latin whole "
        "words); a person may hold several"))
    rank_a: int = setting(default=100, ge=1, description="an account's fit + engagement at least this: rank A")
    rank_b: int = setting(default=40, ge=1, description="at least this: rank B (else C)")
    patterns: list[AccountPattern] = setting(default_factory=list, description=(
        "what makes an account hot: its person whose activity completes one is handed to sales (the account's "
        "owner first), once per pattern within its days"))

    def __post_init__(self) -> None:
        if self.rank_b > self.rank_a:
            raise ValueError("rank_b is at most rank_a")
        if any(not keywords for keywords in self.roles.values()):
            raise ValueError("each role names at least one keyword")
        unknown = sorted({role for pattern in self.patterns for role in pattern.roles} - set(self.roles))
        if unknown:
            raise ValueError(f"account patterns name roles not declared under roles: {', '.join(unknown)}")
