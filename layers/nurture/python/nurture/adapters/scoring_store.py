"""DynamoDB adapter for the scorer: profiles in, ledger and score state out, the handoff outbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nurture import keys
from nurture.adapters.account_store import DynamoAccountStore
from nurture.adapters.dynamo import (
    ConditionFailed,
    TransactionCancelled,
    Update,
    batch_delete,
    from_item,
    item_key,
    score_version_condition,
    to_item,
)
from nurture.adapters.kpi_store import DynamoKpis
from nurture.adapters.lead_store import verdict_deadline
from nurture.domain.activity import expand
from nurture.domain.bots import CLICK_BURST
from nurture.domain.clock import expiry, parse_iso
from nurture.domain.errors import WriteConflict
from nurture.domain.sales.routing import Assignment, RoutingState
from nurture.domain.sales.tasks import CallTask
from nurture.domain.scoring import LedgerEntry, ScoredEvent, ScoreOutcome

MARKS_PER_TRANSACTION = 90  # DynamoDB allows 100 items per transaction; the score, outbox and owner come first


def score_attributes(outcome: ScoreOutcome) -> dict[str, Any]:
    """The lead's score as stored on its profile, with the by_rank index keys."""
    total = round(outcome.fit + outcome.engagement, 4)
    return {
        "scoring": outcome.state.to_item(),
        "fit": outcome.fit,
        "fit_rules": [{"rule_id": m.rule_id, "points": m.points, "reason": m.reason} for m in outcome.fit_matches],
        "engagement": round(outcome.engagement, 4),
        "total": total,
        "rank": outcome.rank,
        "stage": outcome.stage,
    }


class DynamoScoringStore(DynamoKpis, DynamoAccountStore):
    """The scorer's reads and writes; the daily KPIs it counts (`add_kpis`) come from DynamoKpis."""

    def load_profiles(self, lead_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Profiles of the leads in a batch, strongly consistent."""
        return self.profiles_of(lead_ids)

    def write_ledger(self, entries: dict[str, list[LedgerEntry]], retention_days: int) -> None:
        """Every ledger entry of a batch, a PutItem each: BatchWriteItem would give the scorer the power to
        delete any item, and puts cost the same units. Keys are deterministic: a rewrite changes nothing.

        An entry expires with the activity that earned it.
        """
        for lead_id, lead_entries in entries.items():
            for e in lead_entries:
                self._call("put_item", TableName=self._table, Item=to_item({
                    "PK": keys.lead_pk(lead_id), "SK": keys.ledger_sk(e.occurred_at, e.event_id, e.rule_id),
                    "lead_id": lead_id, "event_id": e.event_id, "occurred_at": e.occurred_at, "rule_id": e.rule_id,
                    "delta": e.delta, "reason": e.reason, "event_type": e.event_type,
                    "expires_at": expiry(parse_iso(e.occurred_at), retention_days)}))

    def lead_ids(self, page_size: int = 500) -> Iterator[list[str]]:
        """Every lead, a page at a time. A Scan: for `nurture rescore` only, never on a hot path."""
        kwargs: dict[str, Any] = {"TableName": self._table, "FilterExpression": "SK = :profile",
                                  "ProjectionExpression": "lead_id", "Limit": page_size,
                                  "ExpressionAttributeValues": {":profile": {"S": keys.PROFILE}}}
        while True:
            page = self._call("scan", **kwargs)
            found = [item["lead_id"]["S"] for item in page.get("Items", []) if "lead_id" in item]
            if found:
                yield found
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count_leads(self) -> int:
        return sum(len(page) for page in self.lead_ids(page_size=1000))

    def lead_events(self, lead_id: str) -> list[ScoredEvent]:
        """The lead's stored activity, oldest first, as the scorer sees it."""
        events: list[ScoredEvent] = []
        for item in self._query_all(keys.lead_pk(lead_id), keys.EVENT_PREFIX):
            for attributes in expand(from_item(item)):
                events.append(ScoredEvent(
                    event_id=str(attributes["event_id"]),
                    occurred_at=parse_iso(str(attributes["occurred_at"])),
                    sequence=0,
                    attributes={k: v for k, v in attributes.items() if k not in ("PK", "SK")},
                ))
        return events

    def replace_ledger(self, lead_id: str, entries: list[LedgerEntry], retention_days: int) -> None:
        """The lead's ledger becomes exactly `entries`: rules that no longer apply leave no trace."""
        keep = {keys.ledger_sk(e.occurred_at, e.event_id, e.rule_id) for e in entries}
        stale = [item_key(item["PK"]["S"], item["SK"]["S"])
                 for item in self._query_all(keys.lead_pk(lead_id), keys.LEDGER_PREFIX) if item["SK"]["S"] not in keep]
        batch_delete(self._ddb, self._table, stale)
        self.write_ledger({lead_id: entries}, retention_days)

    def routing_state(self, teams: list[str], people: list[str], account: str | None) -> RoutingState:
        """One strongly consistent BatchGetItem: the teams' round-robin positions, the salespeople's open
        handoffs and the owner of the lead's account."""
        wanted = [*(item_key(keys.round_robin_pk(team), keys.ROUND_ROBIN_SK) for team in teams),
                  *(item_key(keys.owner_pk(person), keys.OWNER_LOAD_SK) for person in people),
                  *([item_key(keys.account_pk(account), keys.ACCOUNT_OWNER_SK)] if account else [])]
        found = {str(item["PK"]): item for item in self._batch_get(wanted)}
        owner = found.get(keys.account_pk(account), {}).get("owner") if account else None
        return RoutingState(
            round_robin={team: int(found.get(keys.round_robin_pk(team), {}).get("turns", 0)) for team in teams},
            open_handoffs={person: int(found.get(keys.owner_pk(person), {}).get("open", 0)) for person in people},
            account_owner=str(owner) if owner else None)

    def save_score(self, lead_id: str, outcome: ScoreOutcome, expected_version: int,
                   assignment: Assignment | None = None, task: CallTask | None = None) -> None:
        """One conditional update; a transaction when a hot transition adds the HANDOFF# outbox item and its
        owner's counts, a task rule the lead's call task, or a click burst marks its activity as a machine's."""
        attributes = score_attributes(outcome)
        attributes["scoring"]["version"] = expected_version + 1
        condition, condition_values = score_version_condition(expected_version)
        changes = Update()
        for name, value in attributes.items():
            changes.set(name, value)
        changes.set("rank_pk", keys.rank_pk(outcome.rank)).set("rank_sk", keys.rank_sk(attributes["total"], lead_id))
        if outcome.last_activity_at is not None:
            changes.set("last_activity_at", outcome.last_activity_at)
        if outcome.activity is not None:
            # The summaries segments read, in the update that applies the events: a replay counts nothing twice.
            changes.set("activity", outcome.activity)
        if outcome.sequence is not None:
            changes.set("sequence", outcome.sequence.to_item())
        if outcome.sequence is not None and outcome.reschedule:
            if outcome.sequence.next_send_at:
                # The sparse due index: the dispatcher finds what is due without reading other leads.
                changes.set("due_pk", keys.due_pk(lead_id))
                changes.set("due_sk", keys.due_sk(outcome.sequence.next_send_at, lead_id))
            else:
                changes.remove("due_pk").remove("due_sk")
        if outcome.handoff is not None:
            changes.set("handoff_id", outcome.handoff.handoff_id).set("handed_off_at", outcome.handoff.at)
        if task is not None:
            changes.set("call_task", task.marker())
        since = outcome.handoff.at if outcome.handoff is not None else task.created_at if task is not None else None
        if assignment is not None and since is not None:  # routed only with a handoff or a call task
            changes.set("owner", assignment.owner).set("owner_kind", assignment.kind)
            changes.set("owned_pk", keys.owned_pk(assignment.owner))
            changes.set("owned_sk", keys.owned_sk(outcome.stage, since, lead_id))
        update = {
            "TableName": self._table,
            "Key": item_key(keys.lead_pk(lead_id), keys.PROFILE),
            # A concurrent scorer or a feedback in between makes us read again instead of overwriting.
            "ConditionExpression": condition,
            **changes.arguments(condition_values),
        }
        others = [*self._handoff_outbox(lead_id, outcome, assignment), *self._call_task(task),
                  *self._ownership(lead_id, outcome, assignment),
                  *self._machine_marks(lead_id, outcome)]
        try:
            if not others:
                self._call("update_item", **update)
            else:
                self._call("transact_write_items", TransactItems=[{"Update": update}, *others])
        except (ConditionFailed, TransactionCancelled) as lost:
            raise WriteConflict("the lead's score changed meanwhile") from lost

    def _handoff_outbox(self, lead_id: str, outcome: ScoreOutcome,
                        assignment: Assignment | None) -> list[dict[str, Any]]:
        handoff = outcome.handoff
        if handoff is None:
            return []
        routed = {} if assignment is None else {
            "id": assignment.owner, "kind": assignment.kind, "rule": assignment.rule, "strategy": assignment.strategy,
            "reason": assignment.reason, "team": assignment.team}
        owner = {"owner": {name: value for name, value in routed.items() if value is not None}} if routed else {}
        return [{"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                         "Item": to_item({"PK": keys.lead_pk(lead_id), "SK": keys.handoff_sk(handoff.handoff_id),
                                          "lead_id": lead_id, "handoff_id": handoff.handoff_id,
                                          "cycle": handoff.cycle, "patterns": handoff.patterns,
                                          "rank": outcome.rank, "created_at": handoff.at, **owner})}}]

    def _call_task(self, task: CallTask | None) -> list[dict[str, Any]]:
        """The task, new (a replayed batch finds it made and reads again), in its owner's list by due time."""
        if task is None:
            return []
        item = {"PK": keys.lead_pk(task.lead_id), "SK": keys.task_sk(task.cycle), **task.attributes(),
                "owned_pk": keys.tasks_pk(task.assignment.owner),
                "owned_sk": keys.task_owned_sk("open", task.due_at or task.created_at, task.task_id)}
        return [{"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                         "Item": to_item(item)}}]

    def _ownership(self, lead_id: str, outcome: ScoreOutcome, assignment: Assignment | None) -> list[dict[str, Any]]:
        """With the handoff or call task: the round-robin turn it takes (only if no other lead took it meanwhile,
        which cancels the transaction: the scorer reads and routes again), the account's owner if it had none;
        with the handoff, the owner's open count and verdict deadline."""
        if assignment is None:
            return []
        writes: list[dict[str, Any]] = []
        if assignment.turn is not None and assignment.team is not None:
            condition, values = ("attribute_not_exists(PK)", {}) if assignment.turn == 0 else (
                "turns = :turn", {":turn": {"N": str(assignment.turn)}})
            writes.append({"Update": {"TableName": self._table,
                                      "Key": item_key(keys.round_robin_pk(assignment.team), keys.ROUND_ROBIN_SK),
                                      "ConditionExpression": condition, "UpdateExpression": "SET turns = :next",
                                      "ExpressionAttributeValues": {":next": {"N": str(assignment.turn + 1)},
                                                                    **values}}})
        if assignment.kind == "person" and outcome.handoff is not None:
            writes.append({"Update": {"TableName": self._table,
                                      "Key": item_key(keys.owner_pk(assignment.owner), keys.OWNER_LOAD_SK),
                                      **Update().add("open", {"N": "1"}).arguments()}})
        if assignment.verdict_due is not None and outcome.handoff is not None:
            writes.append(verdict_deadline(self._table, lead_id, outcome.handoff.handoff_id, assignment.owner,
                                           assignment.team, assignment.verdict_due))
        if assignment.kind == "person" and assignment.account is not None:
            writes.append({"Update": {"TableName": self._table,
                                      "Key": item_key(keys.account_pk(assignment.account), keys.ACCOUNT_OWNER_SK),
                                      **Update().set_if_absent("owner", assignment.owner).arguments()}})
        return writes

    def _machine_marks(self, lead_id: str, outcome: ScoreOutcome) -> list[dict[str, Any]]:
        """The burst's clicks marked as a machine's, as a hit judged on arrival is (a MODIFY: the
        scorer's stream filter lets only new items through). Beyond what one transaction holds, the
        points are still withheld; only the label is missing."""
        marks = Update().set("bot", True).set("bot_reason", CLICK_BURST)
        return [{"Update": {"TableName": self._table,
                            "Key": item_key(keys.lead_pk(lead_id), keys.event_sk(click.occurred_at, click.event_id)),
                            "ConditionExpression": "attribute_exists(PK)", **marks.arguments()}}
                for click in outcome.machine_clicks[:MARKS_PER_TRANSACTION]]
