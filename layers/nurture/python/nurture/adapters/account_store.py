"""DynamoDB adapter for accounts (issue 24): a company's partition holds its owner and an item per lead that
belongs to it; the people's profiles are read with them."""

from __future__ import annotations

from typing import Any

from nurture import keys
from nurture.adapters.lead_store import DynamoTable, from_item


class DynamoAccountStore(DynamoTable):
    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
        """The account's owner and its people's profiles by lead id; None when no lead belongs to it and it has no
        owner. One query of its partition, then a BatchGetItem per 100 people."""
        items = [from_item(item) for item in self._query_all(keys.account_id_pk(account_id))]
        if not items:
            return None
        owner = next((str(item["owner"]) for item in items if item["SK"] == keys.ACCOUNT_OWNER_SK), None)
        members = [str(item["lead_id"]) for item in items if str(item["SK"]).startswith(keys.MEMBER_PREFIX)]
        return owner, self.profiles_of(members)
