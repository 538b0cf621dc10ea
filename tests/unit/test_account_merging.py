"""Merging and splitting accounts by hand (issue 24): who moves where, reruns, chains and refusals, over an
in-memory store that keeps memberships as the DynamoDB adapter does."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from nurture import keys
from nurture.domain.accounts import merging
from nurture.domain.accounts.merging import merge_accounts, split_account, where_merged
from nurture.domain.errors import AccountNotFound, MergeRefused

NOW = datetime(2026, 12, 5, tzinfo=UTC)


class Memberships:
    def __init__(self, people: dict[str, str]) -> None:  # lead id -> the account key its company names
        self.profiles = {lead: {"lead_id": lead, "account": key} for lead, key in people.items()}
        self.merges: dict[str, dict[str, str]] = {}
        self.dropped: list[str] = []

    def merged_into(self, account_id: str) -> dict[str, Any] | None:
        return self.merges.get(account_id)

    def members(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        return [dict(p) for p in self.profiles.values() if keys.account_id(p["account"]) == account_id][:limit]

    def record_merge(self, account_id: str, merged: dict[str, str]) -> None:
        self.merges.setdefault(account_id, merged)

    def drop_merge(self, account_id: str) -> None:
        self.merges.pop(account_id, None)

    def drop_state(self, account_id: str) -> None:
        self.dropped.append(account_id)

    def join_account(self, lead_id: str, account: str | None, left: str | None, came_from: str | None = None,
                     into_merged: bool = False) -> bool:
        profile = self.profiles[lead_id]
        if profile["account"] != left or (not into_merged and account != left and account is not None
                                          and keys.account_id(account) in self.merges):
            return False
        profile["account"] = account
        profile.pop("account_from", None)
        if came_from is not None:
            profile["account_from"] = came_from
        return True

    def where(self) -> dict[str, tuple[str, str | None]]:
        return {lead: (p["account"], p.get("account_from")) for lead, p in self.profiles.items()}


X, Y, Z = "@x.example.jp", "ワイ工房", "ゼット商事"


def test_a_chain_of_merges_splits_back_link_by_link():
    store = Memberships({"x1": X, "y1": Y, "z1": Z})
    merge_accounts(keys.account_id(X), keys.account_id(Y), store, NOW)
    assert store.where()["x1"] == (Y, X) and store.dropped == [keys.account_id(X)]
    merge_accounts(keys.account_id(Y), keys.account_id(Z), store, NOW)
    assert store.where() == {"x1": (Z, X), "y1": (Z, Y), "z1": (Z, None)}

    # X's page is Z's now
    assert where_merged(keys.account_id(X), store) == keys.account_id(Z)
    assert where_merged(keys.account_id(Y), store) == keys.account_id(Z)
    assert where_merged(keys.account_id(Z), store) is None

    # X's people are in Z now: X cannot be split before Y is
    with pytest.raises(MergeRefused, match="split that one first"):
        split_account(keys.account_id(X), store)
    # Splitting Y from Z brings back Y's own people and those merged into Y before
    assert split_account(keys.account_id(Y), store)["moved"] == 2
    assert store.where() == {"x1": (Y, X), "y1": (Y, None), "z1": (Z, None)}
    assert split_account(keys.account_id(X), store)["moved"] == 1
    assert store.where() == {"x1": (X, None), "y1": (Y, None), "z1": (Z, None)}


def test_merges_that_would_loop_or_name_no_one_are_refused_and_a_rerun_finishes():
    store = Memberships({"x1": X, "x2": X, "y1": Y})
    with pytest.raises(MergeRefused, match="into itself"):
        merge_accounts(keys.account_id(X), keys.account_id(X), store, NOW)
    with pytest.raises(AccountNotFound):
        merge_accounts(keys.account_id("@nobody.example.jp"), keys.account_id(Y), store, NOW)
    store.profiles["x2"]["account"] = "elsewhere"  # x2 moved away while the first run went on...
    assert merge_accounts(keys.account_id(X), keys.account_id(Y), store, NOW)["moved"] == 1
    store.profiles["x2"]["account"] = X  # ...and came back: the rerun moves it too
    assert merge_accounts(keys.account_id(X), keys.account_id(Y), store, NOW)["moved"] == 1
    with pytest.raises(MergeRefused, match="merged into another: merge into that one"):
        merge_accounts(keys.account_id(Y), keys.account_id(X), store, NOW)
    with pytest.raises(MergeRefused, match="not merged"):
        split_account(keys.account_id(Y), store)


def test_a_longer_chain_brings_back_whoever_came_through_the_split_account():
    w = "@w.example.jp"
    store = Memberships({"w1": w, "x1": X, "y1": Y, "z1": Z})
    for merged, into in ((w, X), (X, Y), (Y, Z)):
        merge_accounts(keys.account_id(merged), keys.account_id(into), store, NOW)
    assert split_account(keys.account_id(Y), store)["moved"] == 3
    assert store.where() == {"w1": (Y, w), "x1": (Y, X), "y1": (Y, None), "z1": (Z, None)}


def test_a_company_bigger_than_one_call_is_merged_and_split_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(merging, "MOVED_AT_ONCE", 2)
    store = Memberships({**{f"x{n}": X for n in range(5)}, "y1": Y})

    pages = [merge_accounts(keys.account_id(X), keys.account_id(Y), store, NOW) for _ in range(3)]

    assert [(page["moved"], page["more"]) for page in pages] == [(2, True), (2, True), (1, False)]
    assert all(account == Y for account, _ in store.where().values())
    pages = [split_account(keys.account_id(X), store) for _ in range(3)]
    assert [(page["moved"], page["more"]) for page in pages] == [(2, True), (2, True), (1, False)]
    assert store.merges == {} and sum(account == X for account, _ in store.where().values()) == 5


def test_a_person_whose_profile_changed_meanwhile_keeps_the_merge_until_a_later_call_moves_them():
    store = Memberships({"x1": X, "x2": X, "y1": Y})
    merge_accounts(keys.account_id(X), keys.account_id(Y), store, NOW)
    refuse_once = {"x2"}
    joins = store.join_account

    def flaky_join(lead_id: str, *args: Any, **kwargs: Any) -> bool:
        if lead_id in refuse_once:
            refuse_once.discard(lead_id)  # another writer changed its profile just then
            return False
        return joins(lead_id, *args, **kwargs)

    store.join_account = flaky_join  # type: ignore[method-assign]

    first = split_account(keys.account_id(X), store)

    assert (first["moved"], first["more"]) == (1, True) and keys.account_id(X) in store.merges  # held for x2
    assert split_account(keys.account_id(X), store) == {"split": keys.account_id(X), "from": keys.account_id(Y),
                                                       "moved": 1, "more": False}
    assert store.merges == {} and store.where()["x2"] == (X, None)


def test_a_merged_accounts_page_follows_every_later_merge_however_long_the_chain():
    names = [f"@a{n}.example.jp" for n in range(6)]
    store = Memberships({f"p{n}": name for n, name in enumerate(names)})
    for merged, into in itertools.pairwise(names):  # a0 into a1, then a1 into a2, ... a4 into a5
        merge_accounts(keys.account_id(merged), keys.account_id(into), store, NOW)

    assert where_merged(keys.account_id(names[0]), store) == keys.account_id(names[-1])
    assert all(account == names[-1] for account, _ in store.where().values())
