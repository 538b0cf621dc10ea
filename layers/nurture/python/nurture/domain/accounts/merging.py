"""Merging and splitting accounts by hand (issue 24): sales know that two accounts are one company (one known by
its domain and one by its name, a subsidiary under its parent), or that a merge was wrong.

A merge records where the account went, then moves its people: each lead's profile names the account it is in
and, apart, the one its company names (`account_from`), so the scorer sees no move to make and reads nothing more
per hit; a lead that joins later by the merged company's name or domain joins the account it went into. A split
moves back the people who came from it, then forgets the merge. Both can be run again to finish what a failure
left half-way."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from nurture import keys
from nurture.config.scoring import ScoringRules
from nurture.domain.accounts.standing import shown_account
from nurture.domain.clock import iso
from nurture.domain.errors import AccountNotFound, MergeRefused

MOVED_AT_ONCE = 100  # people moved by one request, well within its time: a bigger company takes more requests
READ_FOR_SPLIT = 2_000  # the merged-into account's people looked through for those who came from the split one


class MergeReader(Protocol):
    def merged_into(self, account_id: str) -> dict[str, Any] | None:
        """Where sales merged the account (`into`: that account's key, `from`: its own), if they did."""
        ...


class MergeStore(MergeReader, Protocol):

    def members(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        """Profiles (lead_id, account, account_from) of up to `limit` of its people."""
        ...

    def record_merge(self, account_id: str, merged: dict[str, str]) -> None: ...

    def drop_merge(self, account_id: str) -> None: ...

    def drop_state(self, account_id: str) -> None:
        """The account's pattern state and stored standing: a merged account is listed no more."""

    def join_account(self, lead_id: str, account: str | None, left: str | None, came_from: str | None = None,
                     into_merged: bool = False) -> bool:
        """False when the lead no longer names `left`, or `account` was merged meanwhile (unless `into_merged`)."""
        ...


def merge_accounts(merged: str, into: str, store: MergeStore, now: datetime) -> dict[str, Any]:
    """`merged`'s people moved into `into`, and its later people sent there: at most MOVED_AT_ONCE of them, the
    answer's `more` saying whether to call again for the rest (the merge holds meanwhile). Answers how many
    moved."""
    if merged == into:
        raise MergeRefused("An account cannot be merged into itself.")
    if store.merged_into(into) is not None:
        raise MergeRefused(f"Account '{into}' is merged into another: merge into that one.")
    people = store.members(merged, MOVED_AT_ONCE + 1)
    into_key = _key_of(into, store.members(into, 10))
    done = store.merged_into(merged)
    if done is not None and done["into"] != into_key:
        raise MergeRefused(f"Account '{merged}' is merged into another already: split it first.")
    merged_key = done["from"] if done is not None else _key_of(merged, people)
    store.record_merge(merged, {"into": into_key, "from": merged_key, "at": iso(now)})
    # Listed again once the merge is recorded: a lead that joined meanwhile is moved too (later ones join there)
    people = store.members(merged, MOVED_AT_ONCE + 1)
    movable = [person for person in people[:MOVED_AT_ONCE] if person.get("account") == merged_key]
    moved = sum(store.join_account(str(person["lead_id"]), into_key, str(person["account"]),
                                   came_from=str(person.get("account_from") or person["account"]))
                for person in movable)
    # Its people's marks and standing belong to the other now: they tell it again with their next day's activity
    store.drop_state(merged)
    # One that could not be moved (its profile changed meanwhile) is tried again by the next call
    return {"merged": merged, "into": into, "moved": moved,
            "more": len(people) > MOVED_AT_ONCE or moved < len(movable)}


def split_account(merged: str, store: MergeStore) -> dict[str, Any]:
    """The people who came from `merged` moved back out of the account it was merged into, at most MOVED_AT_ONCE
    of them (`more`: call again for the rest); the merge forgotten once they all are."""
    done = store.merged_into(merged)
    if done is None:
        raise MergeRefused(f"Account '{merged}' is not merged into another.")
    into_key, merged_key = str(done["into"]), str(done["from"])
    into = keys.account_id(into_key)
    if store.merged_into(into) is not None:  # its people are further on: bring them back one merge at a time
        raise MergeRefused(f"The account '{merged}' was merged into is merged on itself: split that one first.")
    people = store.members(into, READ_FOR_SPLIT + 1)
    if len(people) > READ_FOR_SPLIT:
        raise MergeRefused(f"The account it was merged into has more than {READ_FOR_SPLIT} people.")
    came_through: dict[str, bool] = {merged_key: True}  # by the account a lead's company names
    moved = unmoved = 0
    for person in people:
        origin = person.get("account_from")
        if not origin or person.get("account") != into_key:
            continue
        if origin not in came_through:  # merged into the split account (maybe through others) before it was merged on
            came_through[origin] = _leads_to(str(origin), merged_key, store)
        if came_through[origin]:
            if moved == MOVED_AT_ONCE:  # the rest at the next call: the merge holds until they are back
                return {"split": merged, "from": into, "moved": moved, "more": True}
            # Back in the account its company names, or in the split one it had been merged into
            back = store.join_account(str(person["lead_id"]), merged_key, into_key,
                                      came_from=None if origin == merged_key else str(origin), into_merged=True)
            moved, unmoved = moved + back, unmoved + (not back)
    if unmoved:  # its profile changed meanwhile: the merge holds, and the next call tries again
        return {"split": merged, "from": into, "moved": moved, "more": True}
    store.drop_merge(merged)  # last: a rerun finds the merge and finishes the moves
    return {"split": merged, "from": into, "moved": moved, "more": False}


class AccountReader(MergeReader, Protocol):
    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
        """Its owner and its people's profiles; None for an account no one is in and no one owns."""
        ...

    def fired_patterns(self, account_id: str) -> dict[str, Any]: ...


def account_shown(account_id: str, store: AccountReader, rules: ScoringRules, now: datetime) -> dict[str, Any] | None:
    """What GET /v1/accounts/{account_id} and `nurture accounts show` answer: the account, or the one it was merged
    into naming it in `merged_from` (a merged account has no people left); None for no such account."""
    found = store.account(account_id)
    shown, merged_from = account_id, None
    if found is None or not found[1]:
        into = where_merged(account_id, store)
        if into is not None:
            shown, merged_from, found = into, account_id, store.account(into)
    if found is None:
        return None
    owner, members = found
    view = shown_account(shown, members, owner, store.fired_patterns(shown), rules, now)
    return view if merged_from is None else {**view, "merged_from": merged_from}


def merge_chain(account_id: str, store: MergeReader) -> list[str]:
    """The keys of the accounts the merges from `account_id` lead to, in order: none when it was not merged. A
    merge is recorded only into an account not merged itself (adapters.account_store), so a chain cannot loop;
    a repeat would stop it all the same."""
    chain: list[str] = []
    at = account_id
    while (done := store.merged_into(at)) is not None:
        into = str(done["into"])
        if into in chain or keys.account_id(into) == account_id:
            break
        chain.append(into)
        at = keys.account_id(into)
    return chain


def where_merged(account_id: str, store: MergeReader) -> str | None:
    """The id of the account `account_id` was merged into, following later merges of that one; None when it was
    not merged."""
    chain = merge_chain(account_id, store)
    return keys.account_id(chain[-1]) if chain else None


def _leads_to(origin: str, merged_key: str, store: MergeReader) -> bool:
    """Whether the merges from the account `origin` lead to the account `merged_key`."""
    return merged_key in merge_chain(keys.account_id(origin), store)


def _key_of(account_id: str, people: list[dict[str, Any]]) -> str:
    """The account's key, as its people hold it (an account is its people: one without any cannot be named)."""
    for person in people:
        if person.get("account") and keys.account_id(str(person["account"])) == account_id:
            return str(person["account"])
    raise AccountNotFound(f"There is no account '{account_id}' with people in it.")
