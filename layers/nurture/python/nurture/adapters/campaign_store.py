"""Campaigns' runtime state: one item per campaign, on the due index while it is scheduled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nurture import keys
from nurture.adapters.lead_store import ConditionFailed, DynamoTable, from_item, to_item
from nurture.domain.campaigns.lifecycle import CampaignRefused, CampaignState
from nurture.domain.campaigns.sending import CAMPAIGN_COUNTERS

CAMPAIGNS_DUE = "DUE#CAMPAIGNS"  # the due index's partition of scheduled campaigns (leads use DUE#<shard>)


class DynamoCampaignStore(DynamoTable):
    def state(self, campaign_id: str) -> CampaignState | None:
        item = self._get(keys.campaign_pk(campaign_id), keys.CAMPAIGN_SK)
        return CampaignState.from_item(item) if item else None

    def put(self, state: CampaignState, expected: str | None) -> None:
        """Write the new state if the campaign is still as it was read (`expected` status; None: no item)."""
        item = {"PK": keys.campaign_pk(state.campaign_id), "SK": keys.CAMPAIGN_SK, **state.to_item()}
        if state.status == "scheduled":
            item |= {"due_pk": CAMPAIGNS_DUE, "due_sk": f"{state.sends_from}#{state.campaign_id}"}
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"} if expected is None else {
            "ConditionExpression": "#status = :expected", "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":expected": {"S": expected}}}
        try:
            self._call("put_item", TableName=self._table, Item=to_item(item), **condition)
        except ConditionFailed as changed:
            raise CampaignRefused(f"campaign '{state.campaign_id}' changed meanwhile: look again") from changed

    def due(self, until: str) -> list[CampaignState]:
        found = self._pages("query", TableName=self._table, IndexName="due",
                            KeyConditionExpression="due_pk = :due AND due_sk <= :until",
                            ExpressionAttributeValues={":due": {"S": CAMPAIGNS_DUE}, ":until": {"S": f"{until}#~"}})
        return [CampaignState.from_item(from_item(item)) for item in found]

    def counts(self, campaign_id: str) -> dict[str, int]:
        """The campaign's KPI counters summed over their shards: sent, skipped_<reason>, delivered, opened..."""
        totals: dict[str, int] = {}
        for item in map(from_item, self._query_all(keys.stats_pk(CAMPAIGN_COUNTERS, campaign_id))):
            for name, value in item.items():
                if isinstance(value, Decimal):
                    totals[name] = totals.get(name, 0) + int(value)
        return totals
