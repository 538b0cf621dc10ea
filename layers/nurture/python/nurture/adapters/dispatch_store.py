"""DynamoDB side of the dispatcher: the sparse `due` index and the conditional claim."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nurture import keys
from nurture.adapters.lead_store import DynamoTable, from_item, item_key, unavailable
from nurture.domain.dispatch import DueLead
from nurture.jsonable import plain


class DynamoDispatchStore(DynamoTable):
    def sending_paused(self) -> bool:
        """One read a tick: the guard's flag."""
        return "Item" in self._call("get_item", TableName=self._table, ConsistentRead=True,
                                    Key=item_key(keys.GUARD_PK, keys.GUARD_PAUSE_SK), ProjectionExpression="PK")

    def due(self, shard: int, until: str, limit: int) -> list[DueLead]:
        """Due entries of one shard up to `until`: reads proportional to what is due, nothing else."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": "due", "Limit": min(limit, 100),
            "KeyConditionExpression": "due_pk = :shard AND due_sk <= :until",
            # '~' sorts after every character of a lead id: everything due at or before `until`.
            "ExpressionAttributeValues": {":shard": {"S": f"DUE#{shard}"}, ":until": {"S": f"{until}#~"}},
            "ProjectionExpression": "lead_id, due_sk, #sequence",
            "ExpressionAttributeNames": {"#sequence": "sequence"},
        }
        found: list[DueLead] = []
        while len(found) < limit:
            page = self._call("query", **kwargs)
            found += [DueLead(lead_id=i["lead_id"], due_sk=i["due_sk"], sequence=plain(i.get("sequence") or {}))
                      for i in map(from_item, page.get("Items", []))]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]

    def claim(self, lead: DueLead, lease_until: str) -> bool:
        try:
            self._ddb.update_item(
                TableName=self._table, Key=item_key(keys.lead_pk(lead.lead_id), keys.PROFILE),
                UpdateExpression="SET due_sk = :lease",
                ConditionExpression="due_sk = :seen",
                ExpressionAttributeValues={":lease": {"S": keys.due_sk(lease_until, lead.lead_id)},
                                           ":seen": {"S": lead.due_sk}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise unavailable(error) from error
        except BotoCoreError as error:
            raise unavailable(error) from error
        return True
