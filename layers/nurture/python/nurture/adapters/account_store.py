"""DynamoDB adapter for accounts (issue 24): a company's partition holds its owner and an item per lead that
belongs to it; the people's profiles are read with them."""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

from nurture import keys
from nurture.adapters.dynamo import (
    BY_RANK,
    ConditionFailed,
    DynamoTable,
    TransactionCancelled,
    Update,
    from_item,
    item_key,
    to_item,
)
from nurture.domain.accounts.patterns import AccountState
from nurture.domain.errors import MergeRefused, StoreUnavailable, WriteConflict

# What an account's listing shows of its stored standing.
STANDING = ("account_id", "name", "rank", "scores", "people", "active_people", "buying_group", "owner",
            "updated_at")
PEOPLE_READ = 200  # an account's people read at most: a view, a handoff stays small and quick whatever the company


class DynamoAccountStore(DynamoTable):
    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
        """The account's owner and its people's profiles by lead id (the first PEOPLE_READ); None when no lead
        belongs to it and it has no owner. A GetItem of its owner, a query of its members (its state item, however
        big, is not read), then a BatchGetItem per 100 people."""
        pk = keys.account_id_pk(account_id)
        found = self._get(pk, keys.ACCOUNT_OWNER_SK, "owner")
        owner = str(found["owner"]) if found and found.get("owner") else None
        members: list[str] = []
        for item in map(from_item, self._query_all(pk, keys.MEMBER_PREFIX)):
            members.append(str(item["lead_id"]))
            if len(members) == PEOPLE_READ:
                break
        if owner is None and not members:
            return None
        return owner, self.profiles_of(members)

    def join_account(self, lead_id: str, account: str | None, left: str | None, came_from: str | None = None,
                     into_merged: bool = False) -> bool:
        """The lead's membership: in `account` (None: none), out of `left`, in one transaction, on condition that
        the lead still exists and names `left` (an erased lead's late batch joins nothing; two writers that read
        different accounts cannot leave it in both), and that the account it joins is not merged into another
        (`into_merged`: a split moving people back into the account it is undoing the merge of). `came_from`: the
        account its company names, when a merge put it in another. False when a condition failed."""
        changes = Update().set("account", account) if account is not None else Update().remove("account")
        if came_from is not None:
            changes.set("account_from", came_from)
        else:
            changes.remove("account_from")
        condition, read = ("attribute_exists(PK) AND attribute_not_exists(account)", {}) if left is None else (
            "account = :left", {":left": {"S": left}})
        update = {"TableName": self._table, "Key": item_key(keys.lead_pk(lead_id), keys.PROFILE),
                  "ConditionExpression": condition, **changes.arguments(read)}
        if not update["ExpressionAttributeValues"]:
            del update["ExpressionAttributeValues"]
        items: list[dict[str, Any]] = [{"Update": update}]
        if account is not None and account != left:  # staying (only where its company points changes): no move
            items.append({"Put": {"TableName": self._table, "Item": to_item({
                "PK": keys.account_pk(account), "SK": keys.member_sk(lead_id), "lead_id": lead_id})}})
            if not into_merged:  # never into an account merged meanwhile: the next batch (or rerun) follows it
                items.append(self._not_merged(keys.account_id(account)))
        if left is not None and account != left:
            items.append({"Delete": {"TableName": self._table,
                                     "Key": item_key(keys.account_pk(left), keys.member_sk(lead_id))}})
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if "ConditionalCheckFailed" not in cancelled.codes:  # a conflict with another writer: the caller retries
                raise StoreUnavailable(f"the lead's account could not be set: {cancelled.codes}") from cancelled
            return False
        return True

    def merged_into(self, account_id: str) -> dict[str, Any] | None:
        """Where sales merged the account (`into`: that account's key, `from`: this one's), if they did."""
        return self._get(keys.account_id_pk(account_id), keys.ACCOUNT_MERGED_SK, "into, from")

    def members(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` of the account's people: lead id, the account key they hold and where they came from."""
        ids = [str(item["lead_id"]) for item in
               itertools.islice(map(from_item, self._query_all(keys.account_id_pk(account_id), keys.MEMBER_PREFIX)),
                                limit)]
        return list(self.profiles_of(ids, projection=("account", "account_from")).values())

    def record_merge(self, account_id: str, merged: dict[str, str]) -> None:
        """The merge's record (`into`, `from`, `at`), once: a rerun of the same merge finds it as written;
        MergeRefused when a merge elsewhere was recorded meanwhile, or one of the account it goes into (two
        opposite merges at once: one of them is refused, no loop forms)."""
        try:
            self._call("transact_write_items", TransactItems=[
                {"Put": {"TableName": self._table, "Item": to_item(
                    {"PK": keys.account_id_pk(account_id), "SK": keys.ACCOUNT_MERGED_SK, **merged}),
                    "ConditionExpression": "attribute_not_exists(PK) OR #into = :into",
                    "ExpressionAttributeNames": {"#into": "into"},
                    "ExpressionAttributeValues": {":into": {"S": merged["into"]}}}},
                self._not_merged(keys.account_id(merged["into"]))])
        except TransactionCancelled as cancelled:
            if not cancelled.lost_race():
                raise StoreUnavailable(f"the merge could not be recorded: {cancelled.codes}") from cancelled
            raise MergeRefused(f"Account '{account_id}' or the one it goes into was merged meanwhile.") from cancelled

    def _not_merged(self, account_id: str) -> dict[str, Any]:
        """A transaction's check that the account has not been merged into another."""
        return {"ConditionCheck": {"TableName": self._table,
                                   "Key": item_key(keys.account_id_pk(account_id), keys.ACCOUNT_MERGED_SK),
                                   "ConditionExpression": "attribute_not_exists(PK)"}}

    def drop_state(self, account_id: str) -> None:
        self._call("delete_item", TableName=self._table,
                   Key=item_key(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK))

    def drop_merge(self, account_id: str) -> None:
        self._call("delete_item", TableName=self._table,
                   Key=item_key(keys.account_id_pk(account_id), keys.ACCOUNT_MERGED_SK))

    def fired_patterns(self, account_id: str) -> dict[str, Any]:
        """When the account's patterns last fired, and through whom, as stored."""
        found = self._get(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK, "fired", consistent=False)
        return dict((found or {}).get("fired") or {})

    def account_state(self, account_id: str) -> AccountState:
        """The account's pattern marks and firings (strongly consistent: it is written on condition of its version)."""
        return AccountState.from_item(self._get(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK,
                                                "marks, fired, version"))

    def save_account_state(self, account_id: str, state: AccountState, expected_version: int) -> None:
        """WriteConflict when another batch told the account meanwhile; the standing beside it is kept."""
        changes = Update()
        for name, value in state.to_item().items():
            changes.set(name, value)
        condition, read = ("attribute_not_exists(version)", {}) if expected_version == 0 else (
            "version = :read", {":read": {"N": str(expected_version)}})
        update = {"TableName": self._table, "Key": item_key(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK),
                  "ConditionExpression": condition, **changes.arguments(read)}
        try:
            self._call("update_item", **update)
        except ConditionFailed as lost:
            raise WriteConflict("the account was told meanwhile") from lost

    def save_standing(self, account_id: str, view: dict[str, Any], at: str) -> None:
        """The account's standing as `account_view` shows it, listed by rank; its patterns' state is kept. An
        older view (another shard's, read before) does not replace a newer one."""
        scores = view["scores"]
        changes = (Update().set("account_id", account_id).set("name", view["name"]).set("rank", view["rank"])
                   .set("scores", scores).set("people", len(view["people"]))
                   .set("active_people", view["active_people"]).set("buying_group", view["buying_group"])
                   .set("owner", view["owner"]).set("updated_at", at)
                   .set("rank_pk", keys.account_rank_pk(view["rank"]))
                   .set("rank_sk", keys.rank_sk(float(scores["total"]), account_id)))
        with contextlib.suppress(ConditionFailed):
            self._call("update_item", TableName=self._table,
                       Key=item_key(keys.account_id_pk(account_id), keys.ACCOUNT_STATE_SK),
                       ConditionExpression="attribute_not_exists(updated_at) OR updated_at <= :at",
                       **changes.arguments({":at": {"S": at}}))

    def accounts_by_rank(self, rank: str, limit: int, cursor: dict[str, Any] | None
                         ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a rank's accounts, highest total first, as their people's last activity left them: each as
        the listing shows it (STANDING)."""
        found_keys, next_key = self._index_page(BY_RANK, keys.account_rank_pk(rank), "", limit, cursor)
        wanted = [item_key(key["PK"]["S"], key["SK"]["S"]) for key in found_keys]
        items = {str(item["PK"]): item for item in self._batch_get(wanted, consistent=False,
                                                                     projection=("PK", *STANDING))}
        return [{name: items[key["PK"]["S"]].get(name) for name in STANDING}
                for key in found_keys if key["PK"]["S"] in items], next_key
