"""DynamoDB adapter for accounts (issue 24): a company's partition holds its owner and an item per lead that
belongs to it; the people's profiles are read with them."""

from __future__ import annotations

from typing import Any

from nurture import keys
from nurture.adapters.lead_store import DynamoTable, from_item

PEOPLE_READ = 200  # an account's people read at most: a view, a handoff stays small and quick whatever the company


class DynamoAccountStore(DynamoTable):
    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
        """The account's owner and its people's profiles by lead id (the first PEOPLE_READ); None when no lead
        belongs to it and it has no owner. One query of its partition, then a BatchGetItem per 100 people."""
        owner: str | None = None
        members: list[str] = []
        for item in map(from_item, self._query_all(keys.account_id_pk(account_id))):
            if item["SK"] == keys.ACCOUNT_OWNER_SK:
                owner = str(item["owner"])
            elif str(item["SK"]).startswith(keys.MEMBER_PREFIX) and len(members) < PEOPLE_READ:
                members.append(str(item["lead_id"]))
        if owner is None and not members:
            return None
        return owner, self.profiles_of(members)
