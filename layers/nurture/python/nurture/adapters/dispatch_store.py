"""DynamoDB side of the dispatcher: the sparse `due` index and the conditional claim."""

from __future__ import annotations

from nurture import keys
from nurture.adapters.deliverability_store import PauseReader
from nurture.adapters.dynamo import ConditionFailed, item_key
from nurture.domain.dispatch import DueLead
from nurture.jsonable import plain


class DynamoDispatchStore(PauseReader):
    def due(self, shard: int, until: str, limit: int) -> list[DueLead]:
        """Due entries of one shard up to `until`: reads proportional to what is due, nothing else."""
        return [DueLead(lead_id=i["lead_id"], due_sk=i["due_sk"], sequence=plain(i.get("sequence") or {}))
                for i in self._due(f"DUE#{shard}", until, limit, ("lead_id", "due_sk", "sequence"))]

    def claim(self, lead: DueLead, lease_until: str, claimant: str) -> bool:
        lease = keys.due_sk(lease_until, lead.lead_id)
        try:
            self._call("update_item", TableName=self._table, Key=item_key(keys.lead_pk(lead.lead_id), keys.PROFILE),
                       UpdateExpression="SET due_sk = :lease, claimed_by = :claimant",
                       ConditionExpression="due_sk = :seen", ReturnValuesOnConditionCheckFailure="ALL_OLD",
                       ExpressionAttributeValues={":lease": {"S": lease}, ":seen": {"S": lead.due_sk},
                                                  ":claimant": {"S": claimant}})
        except ConditionFailed as taken:
            # Ours after all when the update landed and only its answer was lost (the SDK retried it);
            # otherwise another tick claimed it first.
            return bool(taken.item and taken.item.get("claimed_by") == claimant and taken.item.get("due_sk") == lease)
        return True
