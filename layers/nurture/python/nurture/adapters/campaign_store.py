"""Campaigns' runtime state: one item per campaign, on the due index while it is scheduled."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from nurture import keys
from nurture.adapters.audit_log import recorded
from nurture.adapters.dynamo import ConditionFailed, DynamoTable, TransactionCancelled, item_key, to_item
from nurture.domain.campaigns.lifecycle import CampaignMessage, CampaignRefused, CampaignState, Held
from nurture.domain.console.audit import Change
from nurture.domain.errors import StoreUnavailable
from nurture.keys import CAMPAIGN_COUNTERS


class DynamoCampaignStore(DynamoTable):
    def state(self, campaign_id: str) -> CampaignState | None:
        item = self._get(keys.campaign_pk(campaign_id), keys.CAMPAIGN_SK)
        return CampaignState.from_item(item) if item else None

    def states(self, campaign_ids: list[str]) -> dict[str, CampaignState]:
        """The runtime state of each of these campaigns that has one (a draft has none): a BatchGetItem per 100."""
        found = self._batch_get([item_key(keys.campaign_pk(campaign_id), keys.CAMPAIGN_SK)
                                 for campaign_id in campaign_ids])
        return {state.campaign_id: state for state in map(CampaignState.from_item, found)}

    def put(self, state: CampaignState, expected: str | None, undecided: bool = False,
            change: Change | None = None) -> None:
        """Write the new state if the campaign is still as it was read (`expected` status; None: no item), and
        with `undecided`, if its A/B test has no decision yet: one tick's winner is the only one. A console
        `change` is recorded in the same transaction."""
        item = {"PK": keys.campaign_pk(state.campaign_id), "SK": keys.CAMPAIGN_SK, **state.to_item()}
        if state.due_at is not None:
            item |= {"due_pk": keys.CAMPAIGNS_DUE, "due_sk": f"{state.due_at}#{state.campaign_id}"}
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"} if expected is None else {
            "ConditionExpression": "#status = :expected" + (" AND attribute_not_exists(decision)" if undecided else ""),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":expected": {"S": expected}}}
        write = {"TableName": self._table, "Item": to_item(item), **condition}
        try:
            if change is None:
                self._call("put_item", **write)
            else:
                self._call("transact_write_items", TransactItems=[{"Put": write}, recorded(self._table, change)])
        except (ConditionFailed, TransactionCancelled) as changed:
            if isinstance(changed, TransactionCancelled) and "ConditionalCheckFailed" not in changed.codes:
                raise StoreUnavailable(f"campaign state not written: {changed.codes}") from changed  # throttled
            raise CampaignRefused(f"campaign '{state.campaign_id}' changed meanwhile: look again") from changed

    def due(self, until: str) -> list[CampaignState]:
        # The index projects only what held emails need: a campaign (a handful at a time) is read from the table.
        found = (self._get(str(entry["PK"]), str(entry["SK"])) for entry in self._due(keys.CAMPAIGNS_DUE, until))
        return [CampaignState.from_item(item) for item in found if item is not None]

    def held(self, until: str, limit: int) -> list[Held]:
        """Campaign emails whose lead's own send window has opened by `until`, oldest first."""
        return [Held(CampaignMessage.of(campaign_id=item["campaign_id"], lead_id=item["lead_id"],
                                     config_version=int(item["config_version"])), str(item["due_sk"]))
                for item in self._due(keys.HELD_DUE, until, limit)]

    def release(self, held: Held) -> None:
        """Off the due index, unless the sender held it again meanwhile (a later time: that one stays)."""
        with contextlib.suppress(ConditionFailed):
            self._call("update_item", TableName=self._table,
                       Key=item_key(keys.campaign_pk(held.message.campaign_id),
                                    keys.campaign_hold_sk(held.message.lead_id)),
                       UpdateExpression="REMOVE due_pk, due_sk", ConditionExpression="due_sk = :seen",
                       ExpressionAttributeValues={":seen": {"S": held.due_sk}})

    def counts(self, step: str) -> dict[str, int]:
        """A campaign's KPI counters summed over their shards: sent, skipped_<reason>, delivered, opened...
        (`step`: the campaign's id, or one variant of its A/B test: clicked_people too)."""
        return self.step_totals([(CAMPAIGN_COUNTERS, step)]).get((CAMPAIGN_COUNTERS, step), {})

    def step_totals(self, steps: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, int]]:
        """The counters of each (sequence, step) summed over their shards, for the steps that have any: every
        shard of every step in a BatchGetItem per 100 keys (12 steps of 8 shards: one call)."""
        wanted = [item_key(keys.stats_pk(sequence, step), shard) for sequence, step in steps
                  for shard in keys.stats_shards()]
        totals: dict[tuple[str, str], dict[str, int]] = {}
        for item in self._batch_get(wanted, consistent=False):
            counted = totals.setdefault((str(item["sequence"]), str(item["step"])), {})
            for name, value in item.items():
                if isinstance(value, Decimal):
                    counted[name] = counted.get(name, 0) + int(value)
        return totals
