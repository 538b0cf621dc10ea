"""DynamoDB adapter for leads and their activity. The only module that knows the table's item layout."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from nurture import keys
from nurture.adapters.dynamo import (
    BY_OWNER,
    BY_RANK,
    TRANSACTION_LIMIT,
    ConditionFailed,
    DynamoTable,
    TransactionCancelled,
    Update,
    batch_delete,
    chunks,
    from_item,
    item_key,
    score_version_condition,
    to_item,
)
from nurture.domain.activity import Activity, event_count, expand
from nurture.domain.capture import AlreadySubmitted, CaptureResult, LeadLookup, SubmissionWrite
from nurture.domain.clock import iso, utc_now
from nurture.domain.console.audit import Change
from nurture.domain.errors import LeadGone, StoreUnavailable, WriteConflict
from nurture.domain.leads import LeadRecord, VerdictEffect, counts_as_open
from nurture.domain.preferences.double_opt_in import COUNTERS, Confirmation, ExpiredRequest
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sales.deadlines import DueVerdict
from nurture.domain.scoring import ScoreState
from nurture.domain.submissions import PROFILE_FIELDS
from nurture.domain.tracking import OverQuota, Quota, VisitorErased, VisitorIdentified, VisitorMoved
from nurture.keys import CAMPAIGN_COUNTERS
from nurture.table import PARTITION_KEY, GlobalIndex

if TYPE_CHECKING:
    from nurture.domain.sales.owners import OwnerChange
    from nurture.domain.sales.tasks import TaskChange

TASKS_SHOWN = 10  # a lead's newest call tasks, one per nurture cycle
# What capture reads of a known lead: the fields a submission may fill, and the version it holds.
CONSENT_HISTORY_LIMIT = 200  # the lead view's consent history: form consents, confirmations and choices
KNOWN_FIELDS = ", ".join((*PROFILE_FIELDS, "email", "custom", "consent", "updated_at", "double_opt_in"))


def verdict_deadline(table: str, lead_id: str, handoff_id: str, owner: str, team: str | None, due: str,
                     step: str = "remind") -> dict[str, Any]:
    """The lead's verdict deadline, written with its handoff or reassignment: the sparse due index brings it to
    the dispatcher's tick when it passes (no scans)."""
    return {"Put": {"TableName": table, "Item": to_item({
        "PK": keys.lead_pk(lead_id), "SK": keys.FEEDBACK_SK, "lead_id": lead_id,
        "handoff_id": handoff_id, "owner": owner, "team": team, "step": step,
        "due_pk": keys.FEEDBACK_DUE, "due_sk": keys.due_sk(due, lead_id)})}}


def verdict_changes(changes: Update, lead_id: str, effect: VerdictEffect, expected_version: int, at: str,
                    owner: str | None) -> Update:
    """A verdict's changes to the profile: stage, score state and scores (with the by_rank keys), and the owned
    lead's place in its owner's list."""
    for name, value in {"stage": effect.stage, "scoring": {**effect.state.to_item(), "version": expected_version + 1},
                        "rank": effect.rank, "engagement": effect.state.engagement, "total": effect.total,
                        "rank_pk": keys.rank_pk(effect.rank), "rank_sk": keys.rank_sk(effect.total, lead_id),
                        "updated_at": at}.items():
        changes.set(name, value)
    if owner is not None:
        changes.set("owned_sk", keys.owned_sk(effect.stage, at, lead_id))
    return changes


def account_as_read(account: str | None) -> tuple[str, dict[str, Any]]:
    """A profile delete's condition that the lead's account is as read: a membership the scorer added meanwhile
    would outlive the sweep, which deletes the one read."""
    if account is None:
        return "attribute_not_exists(account)", {}
    return "account = :account", {":account": {"S": str(account)}}


def no_verdict_deadline(table: str, lead_id: str) -> dict[str, Any]:
    """A verdict came, or the lead went to a queue: nothing is owed any more."""
    return {"Delete": {"TableName": table, "Key": item_key(keys.lead_pk(lead_id), keys.FEEDBACK_SK)}}


class DynamoLeadStore(DynamoTable):

    # --- lead capture -------------------------------------------------------------------------

    def look_up(self, email_key: str, vid: str | None) -> LeadLookup:
        """One BatchGetItem: the address's owner and, with a visitor id, whom it already belongs to."""
        wanted = [item_key(keys.email_claim_pk(email_key), keys.EMAIL_CLAIM_SK)]
        if vid:
            wanted.append(item_key(keys.visitor_pk(vid), keys.VISITOR_IDENTITY_SK))
        found = {str(item["PK"]): item for item in self._batch_get(wanted)}
        claim = found.get(keys.email_claim_pk(email_key), {})
        identity = found.get(keys.visitor_pk(vid), {}) if vid else {}
        lead_id = claim.get("lead_id")
        # A known address: what its lead holds, so a submission fills blanks and proposes the rest.
        known = self.profile(lead_id, KNOWN_FIELDS) if lead_id else None
        return LeadLookup(
            lead_id=lead_id,
            visitor_lead_id=identity.get("lead_id"),
            visitor_merged=bool(identity.get("merged")),
            visitor_verified=identity.get("verified") is True,
            known=known,
        )

    def write_submission(self, write: SubmissionWrite) -> None:
        lead_pk = keys.lead_pk(write.lead_id)
        items: list[dict[str, Any]] = []
        request = write.profile.get("double_opt_in")
        if request:  # the lead waits in the due index until its confirmation time runs out
            write = replace(write, profile={**write.profile, "due_pk": keys.UNCONFIRMED_DUE,
                                            "due_sk": keys.due_sk(request["remove_at"], write.lead_id)})
        if write.new_lead:
            items.append(self._put_new(keys.email_claim_pk(write.email_key), keys.EMAIL_CLAIM_SK,
                                       {"lead_id": write.lead_id}))
            profile = {**write.profile, "custom": write.custom, **write.counters,
                       "form_kinds": {write.activity.data["form_kind"]}}
            if write.claim_visitor:
                profile["vids"] = {write.claim_visitor}
            items.append(self._put_new(lead_pk, keys.PROFILE, profile))
        else:
            items.append({"Update": self._profile_update(write)})
        activity = write.activity
        items.append({"Put": {"TableName": self._table,
                              "Item": to_item({"PK": lead_pk, "SK": keys.event_sk(activity.occurred_at,
                                                                                   activity.event_id),
                                               **activity.attributes()})}})
        if write.consent is not None:
            items.append({"Put": {"TableName": self._table, "Item": to_item(
                {"PK": lead_pk, "SK": keys.consent_sk(write.consent["recorded_at"], activity.event_id),
                 "lead_id": write.lead_id, **write.consent})}})
        duplicate_index = len(items)
        items.append({"Put": {
            "TableName": self._table,
            "Item": to_item({"PK": keys.dedupe_pk(write.duplicate_key), "SK": keys.DEDUPE_SK,
                             "lead_id": write.result.lead_id, "created": write.result.created,
                             "submission_id": write.result.submission_id,
                             "expires_at": write.duplicate_expires_at}),
            # An expired marker that TTL has not swept yet does not count, nor one naming an erased lead.
            "ConditionExpression": "attribute_not_exists(PK) OR expires_at < :now"
                                   + (" OR lead_id = :stale" if write.stale_duplicate_of else ""),
            "ExpressionAttributeValues": {":now": {"N": str(write.now)},
                                          **({":stale": {"S": write.stale_duplicate_of}}
                                             if write.stale_duplicate_of else {})},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }})
        if write.claim_visitor:
            # A browser no lead owns: never seen, or left by an erased lead (its person is back, and agreed again).
            items.append({"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(lead_id)",
                                  "Item": to_item({"PK": keys.visitor_pk(write.claim_visitor),
                                                   "SK": keys.VISITOR_IDENTITY_SK, "lead_id": write.lead_id,
                                                   "identified_at": activity.occurred_at, "merged": False,
                                                   "verified": write.claim_verified})}})
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            reasons = cancelled.reasons
            duplicate = reasons[duplicate_index] if len(reasons) > duplicate_index else {}
            if duplicate.get("Code") == "ConditionalCheckFailed":
                old = from_item(duplicate.get("Item", {}))
                raise AlreadySubmitted(CaptureResult(lead_id=old["lead_id"], created=bool(old["created"]),
                                                     submission_id=str(old.get("submission_id", "")))) from cancelled
            if cancelled.lost_race():
                raise WriteConflict("a concurrent write got there first") from cancelled
            raise StoreUnavailable(f"submission cancelled: {cancelled.codes}") from cancelled

    def merge_visitor(self, vid: str, lead_id: str, limit: int) -> int:
        """Copy the visitor's `limit` most recent anonymous events into the lead's history, once; older ones
        stay where they are and are counted on the identity item (`unmerged_events`), so a form answers
        quickly whatever the visitor's history.

        Copies keep their sort keys, so a repeated merge rewrites the same items (DynamoDB emits no
        stream record for an unchanged item) and no event is ever counted twice.
        """
        page = self._call("query", TableName=self._table, ScanIndexForward=False, Limit=limit, ConsistentRead=True,
                          KeyConditionExpression="PK = :pk AND begins_with(SK, :events)",
                          ExpressionAttributeValues={":pk": {"S": keys.visitor_pk(vid)},
                                                     ":events": {"S": keys.EVENT_PREFIX}})
        copies = [{"Put": {"TableName": self._table, "Item": {
            **item, "PK": {"S": keys.lead_pk(lead_id)}, "lead_id": {"S": lead_id}, "merged_from": {"S": "visitor"}}}}
            for item in page.get("Items", [])]
        left = self._count_older(vid, page["LastEvaluatedKey"]) if "LastEvaluatedKey" in page else 0
        events = sum(len(expand(from_item(item))) for item in page.get("Items", []))
        merged = {"TableName": self._table, "Key": item_key(keys.visitor_pk(vid), keys.VISITOR_IDENTITY_SK),
                  "UpdateExpression": "SET merged = :true, merged_events = :count, unmerged_events = :left",
                  "ExpressionAttributeValues": {":true": {"BOOL": True}, ":count": {"N": str(events)},
                                                ":left": {"N": str(left)}}}
        items = [*copies, {"Update": merged}]
        for chunk in chunks(items, TRANSACTION_LIMIT):  # the identity is marked merged with the last copies
            try:
                self._call("transact_write_items", TransactItems=chunk)
            except TransactionCancelled as cancelled:  # a beacon of the visitor at the same moment, say
                if cancelled.lost_race():
                    raise WriteConflict("the visitor was being written at the same moment") from cancelled
                raise StoreUnavailable(f"merge cancelled: {cancelled.codes}") from cancelled
        return len(copies)

    def _count_older(self, vid: str, after: dict[str, Any]) -> int:
        """How many older events stay behind: one COUNT page (DynamoDB stops it at 1 MB read), a lower bound
        for a history longer than that."""
        page = self._call("query", TableName=self._table, ScanIndexForward=False, Select="COUNT",
                          ExclusiveStartKey=after, KeyConditionExpression="PK = :pk AND begins_with(SK, :events)",
                          ExpressionAttributeValues={":pk": {"S": keys.visitor_pk(vid)},
                                                     ":events": {"S": keys.EVENT_PREFIX}})
        return int(page.get("Count", 0))

    def profiles(self) -> Iterator[dict[str, Any]]:
        """Every lead's profile (a scan: for exports, never on a request's path)."""
        items = self._pages("scan", TableName=self._table, FilterExpression="SK = :profile",
                            ExpressionAttributeValues={":profile": {"S": keys.PROFILE}})
        return (from_item(item) for item in items)

    def report_items(self) -> Iterator[dict[str, Any]]:
        """Every lead's profile, activity, handoffs and purchases, campaigns' states, counters and scans, the double
        opt-in counters, the seminar registrations and the monthly revenue (a scan: for reports, never on a
        request's path)."""
        items = self._pages("scan", TableName=self._table,
                            FilterExpression="(begins_with(PK, :lead) AND (SK = :profile OR begins_with(SK, :event) "
                                             "OR begins_with(SK, :handoff) OR begins_with(SK, :purchase))) "
                                             "OR begins_with(PK, :campaigns) OR begins_with(PK, :revenue) "
                                             "OR begins_with(PK, :jobs) OR (begins_with(PK, :state) AND SK = :sk) "
                                             "OR begins_with(PK, :opt_in) "
                                             "OR (begins_with(PK, :seminar) AND begins_with(SK, :registration))",
                            ExpressionAttributeValues={":lead": {"S": keys.lead_pk("")},
                                                       ":profile": {"S": keys.PROFILE},
                                                       ":event": {"S": keys.EVENT_PREFIX},
                                                       ":handoff": {"S": keys.HANDOFF_PREFIX},
                                                       ":purchase": {"S": keys.PURCHASE_PREFIX},
                                                       ":revenue": {"S": keys.revenue_pk("")},
                                                       ":campaigns": {"S": keys.stats_pk(CAMPAIGN_COUNTERS, "")},
                                                       ":jobs": {"S": keys.job_pk("")},
                                                       ":state": {"S": keys.campaign_pk("")},
                                                       ":sk": {"S": keys.CAMPAIGN_SK},
                                                       ":opt_in": {"S": keys.stats_pk(COUNTERS, "")},
                                                       ":seminar": {"S": keys.event_pk("")},
                                                       ":registration": {"S": keys.registration_sk("")}})
        return (from_item(item) for item in items)

    def handoff_published(self, lead_id: str, handoff_id: str) -> bool:
        item = self._get(keys.lead_pk(lead_id), keys.handoff_sk(handoff_id))
        return bool(item and "published_at" in item)

    def mark_handoff_published(self, lead_id: str, handoff_id: str, at: str) -> None:
        with contextlib.suppress(ConditionFailed):  # erased meanwhile: nothing to mark
            self._call("update_item", TableName=self._table,
                       Key=item_key(keys.lead_pk(lead_id), keys.handoff_sk(handoff_id)),
                       UpdateExpression="SET published_at = :at", ConditionExpression="attribute_exists(PK)",
                       ExpressionAttributeValues={":at": {"S": at}})

    def lead_record(self, lead_id: str, activity_limit: int = 50, ledger_limit: int = 1000) -> LeadRecord | None:
        """Profile, newest activity, score ledger and whether the address is suppressed."""
        profile = self.profile(lead_id)
        if profile is None:
            return None
        return LeadRecord(
            lead_id=lead_id,
            profile=profile,
            activities=[event for item in self._newest(keys.lead_pk(lead_id), keys.EVENT_PREFIX, activity_limit)
                        for event in reversed(expand(item))][:activity_limit],
            ledger=self._newest(keys.lead_pk(lead_id), keys.LEDGER_PREFIX, ledger_limit),
            # Only a lead that was given a call task has any: no query for the others.
            tasks=self._newest(keys.lead_pk(lead_id), keys.TASK_PREFIX, TASKS_SHOWN) if profile.get("call_task")
            else [],
            consents=self._newest(keys.lead_pk(lead_id), keys.CONSENT_PREFIX, CONSENT_HISTORY_LIMIT),
            suppressed=self.suppressed(str(profile.get("email_key"))),
        )

    def _newest(self, pk: str, prefix: str, limit: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ScanIndexForward": False, "Limit": min(limit, 1000),
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
        }
        while len(items) < limit:
            page = self._call("query", **kwargs)
            items += [from_item(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items[:limit]

    # --- sales -------------------------------------------------------------------------------

    def leads_by_rank(self, rank: str, limit: int, cursor: dict[str, Any] | None, projection: tuple[str, ...] = ()
                      ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the by_rank index, highest total first, and where the next page starts.

        `cursor` is a LastEvaluatedKey this method returned; anything else is InvalidCursor.
        """
        return self._listed(BY_RANK, keys.rank_pk(rank), "", limit, cursor, projection)

    def leads_by_owner(self, owner: str, stage: str | None, limit: int, cursor: dict[str, Any] | None,
                       projection: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a salesperson's or queue's leads (of one stage, or every stage in turn), newest first."""
        return self._listed(BY_OWNER, keys.owned_pk(owner), f"{stage}#" if stage else "", limit, cursor, projection)

    def _listed(self, index: GlobalIndex, partition: str, sort_prefix: str, limit: int,
                cursor: dict[str, Any] | None, projection: tuple[str, ...]
                ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        found_keys, next_key = self._index_page(index, partition, sort_prefix, limit, cursor)
        # The indexes hold keys only (a score change would otherwise rewrite the entry): the page's profiles are
        # read from the table, in the index's order; one erased meanwhile is left out.
        ids = [key[PARTITION_KEY]["S"].removeprefix("LEAD#") for key in found_keys]
        found = self.profiles_of(ids, consistent=False, projection=projection)
        return [found[lead_id] for lead_id in ids if lead_id in found], next_key

    def tasks_by_owner(self, owner: str, status: str, limit: int, cursor: dict[str, Any] | None
                       ) -> tuple[list[tuple[dict[str, Any], dict[str, Any] | None]], dict[str, Any] | None]:
        """One page of a salesperson's or queue's call tasks of a status (open: soonest due first; done: latest
        first), each with its lead's profile (None if erased meanwhile): one BatchGetItem for both."""
        found_keys, next_key = self._index_page(BY_OWNER, keys.tasks_pk(owner), f"{status}#", limit, cursor,
                                                forward=status == "open")
        wanted = [item_key(key[PARTITION_KEY]["S"], key["SK"]["S"]) for key in found_keys]
        # One profile key per lead, however many of its tasks (one per cycle) the page holds: DynamoDB refuses twice.
        leads = dict.fromkeys(key["PK"]["S"] for key in wanted)
        items = self._batch_get([*wanted, *(item_key(lead, keys.PROFILE) for lead in leads)], consistent=False)
        by_key = {(str(item["PK"]), str(item["SK"])): item for item in items}
        tasks = [by_key[found] for found in ((key["PK"]["S"], key["SK"]["S"]) for key in wanted) if found in by_key]
        return [(task, by_key.get((str(task["PK"]), keys.PROFILE))) for task in tasks], next_key

    def task(self, lead_id: str, cycle: int) -> dict[str, Any] | None:
        return self._get(keys.lead_pk(lead_id), keys.task_sk(cycle))

    def save_call_outcome(self, change: TaskChange) -> None:
        """The call on the task (only if no other report counted one meanwhile), the profile's marker of the task
        and what the outcome changes on the lead, and the call's activity, in one transaction."""
        at = change.activity.occurred_at
        task = Update().set("status", change.status).set("attempts", change.attempts + 1).set("calls", change.calls)
        if change.due_at is not None:
            task.set("due_at", change.due_at)
        task.set("owned_sk", keys.task_owned_sk(change.status, change.due_at or at, change.marker["task_id"]))
        changes = Update().set("call_task", change.marker)
        if change.phone_wrong is not None:
            changes.set("phone_wrong", change.phone_wrong)
        others = [{"Update": {"TableName": self._table,
                              "Key": item_key(keys.lead_pk(change.lead_id), keys.task_sk(change.cycle)),
                              "ConditionExpression": "attempts = :made",
                              **task.arguments({":made": {"N": str(change.attempts)}})}}]
        version = change.state.version
        if change.recycle is None:
            changes.set("scoring", {**change.state.to_item(), "version": version + 1}).set("updated_at", at)
            self._lead_transaction(change.lead_id, changes, version, change.activity, {}, others)
            return
        verdict_changes(changes, change.lead_id, change.recycle, version, at, change.owned)
        self._lead_transaction(change.lead_id, changes, version, change.activity, change.recycle.open_counts,
                               [*others, no_verdict_deadline(self._table, change.lead_id)])

    def save_feedback(self, lead_id: str, effect: VerdictEffect, activity: Activity, expected_version: int,
                      owner: str | None = None) -> None:
        """The verdict, its activity and the salesperson's open count it moves (one less when it closes their
        handoff). An owned lead moves to its new stage in the owner's list."""
        changes = verdict_changes(Update(), lead_id, effect, expected_version, activity.occurred_at, owner)
        # Any verdict answers the handoff: its deadline goes (a lead in another stage has none to delete).
        self._lead_transaction(lead_id, changes, expected_version, activity, effect.open_counts,
                               [no_verdict_deadline(self._table, lead_id)])

    def save_owner(self, change: OwnerChange) -> None:
        """The new owner, the activity recording who gave it and why, and the open handoff moved between
        salespeople's counts; a console change's record too."""
        from nurture.adapters.audit_log import recorded  # not on the scorer's cold start

        changes = Update().set("owner", change.owner).set("owner_kind", change.kind)
        changes.set("owned_pk", keys.owned_pk(change.owner))
        changes.set("owned_sk", keys.owned_sk(change.stage, change.activity.occurred_at, change.lead_id))
        changes.set("scoring", {**change.state.to_item(), "version": change.state.version + 1})
        changes.set("updated_at", change.activity.occurred_at)
        deadline = no_verdict_deadline(self._table, change.lead_id) if change.verdict_due is None else \
            verdict_deadline(self._table, change.lead_id, str(change.handoff_id), change.owner, None,
                             change.verdict_due)
        self._lead_transaction(change.lead_id, changes, change.state.version, change.activity,
                               {person: step for person, step in ((change.released, -1), (change.taken, +1))
                                if person is not None},
                               [deadline, *([recorded(self._table, change.recorded)] if change.recorded else [])])

    def _lead_transaction(self, lead_id: str, changes: Update, expected_version: int, activity: Activity,
                          open_counts: Mapping[str, int], others: list[dict[str, Any]]) -> None:
        """A sales change to the profile, if no other writer moved its version meanwhile, with its activity and
        the salespeople's open counts it moves."""
        condition, condition_values = score_version_condition(expected_version)
        items: list[dict[str, Any]] = [
            {"Update": {"TableName": self._table, "Key": item_key(keys.lead_pk(lead_id), keys.PROFILE),
                        "ConditionExpression": condition, **changes.arguments(condition_values)}},
            {"Put": {"TableName": self._table, "Item": {**self._activity_item(keys.lead_pk(lead_id), activity),
                                                         "lead_id": {"S": lead_id}}}}]
        items += [{"Update": {"TableName": self._table, "Key": item_key(keys.owner_pk(person), keys.OWNER_LOAD_SK),
                              **Update().add("open", {"N": str(step)}).arguments()}}
                  for person, step in open_counts.items()]
        items += others
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            raise WriteConflict("the lead changed meanwhile") from cancelled

    def erase(self, lead_id: str, change: Change | None = None) -> bool:
        """Delete everything of the lead; keep (or add) only the hashed suppression entry.

        The profile goes first, in one transaction with the suppression entry and an erasure marker that
        holds what the sweep needs: every write under a lead checks that its profile exists, so nothing
        can land after that moment and outlive the sweep. The marker goes last, so an erasure interrupted
        half-way is finished by the next DELETE. A console `change` is recorded in that first transaction (or,
        finishing an interrupted erasure, before its sweep).
        """
        from nurture.adapters.audit_log import recorded  # not on the scorer's cold start
        from nurture.adapters.purchase_store import COUNTED_NAMES, counted_out

        pk = keys.lead_pk(lead_id)
        for attempt in range(MAX_ATTEMPTS):
            profile = self.profile(lead_id, "email_key, vids, stage, owner, owner_kind, scoring, account, customer")
            plan = profile or self._get(pk, keys.ERASURE_SK)
            if plan is None:
                return False
            email_key, vids, at = str(plan["email_key"]), sorted(plan.get("vids") or ()), iso(utc_now())
            account = plan.get("account")
            if profile is None:
                if change is not None:
                    self._call("transact_write_items", TransactItems=[recorded(self._table, change)])
                break  # an erasure interrupted half-way: its sweep is finished below
            # A handoff the owner was still working no longer counts in their load (least-loaded routing reads it).
            frees = {str(profile["owner"]): -1} if counts_as_open(profile.get("owner_kind"),
                                                                  str(profile.get("stage"))) else {}
            condition, values = score_version_condition(ScoreState.from_item(profile.get("scoring")).version)
            held, held_values = account_as_read(account)
            condition, values = f"({condition}) AND {held}", {**values, **held_values}
            # A customer leaves the customers' distribution, counted as read (a review moves it meanwhile).
            counted, counted_values, uncounted = counted_out(self._table, profile.get("customer"))
            condition, values = f"{condition} AND {counted}", {**values, **counted_values}
            try:
                self._call("transact_write_items", TransactItems=[
                    self._erasure_marker(pk, email_key, vids, at, account),
                    # As read: a verdict or a new owner meanwhile would make the count above wrong.
                    {"Delete": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                                "ConditionExpression": condition, "ExpressionAttributeNames": COUNTED_NAMES,
                                **({"ExpressionAttributeValues": values} if values else {})}},
                    {"Update": {"TableName": self._table, "Key": item_key(keys.suppression_pk(email_key),
                                                                          keys.SUPPRESSION_SK),
                                "UpdateExpression": "SET reason = if_not_exists(reason, :erased), erased_at = :at",
                                "ExpressionAttributeValues": to_item({":erased": "erased", ":at": at})}},
                    *({"Update": {"TableName": self._table, "Key": item_key(keys.owner_pk(person), keys.OWNER_LOAD_SK),
                                  **Update().add("open", {"N": str(step)}).arguments()}}
                      for person, step in frees.items()),
                    *([recorded(self._table, change)] if change is not None else []),
                    *uncounted,
                ])
            except TransactionCancelled:
                backoff(attempt)  # the lead changed between the read and the erasure: read it again
                continue
            break
        else:
            raise StoreUnavailable("the lead kept changing while it was erased")
        self._release_event_places(lead_id)
        self._sweep(lead_id, email_key, vids, at, tombstone=True, account=account)
        return True

    def _release_event_places(self, lead_id: str) -> None:
        """Each seminar registration of the lead (found by its pointer), its waitlist place and its seat count, in
        one transaction each; one already released (cancelled, or an erasure run again) is left as it is."""
        from nurture.adapters.event_store import release_items  # not on the scorer's cold start

        for place in self._query_all(keys.lead_pk(lead_id), keys.EVENT_PLACE_PREFIX):
            event_id = place["SK"]["S"].removeprefix(keys.EVENT_PLACE_PREFIX)
            found = from_item(place)
            if found.get("status") not in ("registered", "waitlisted"):
                continue  # cancelled: nothing to give back
            items = release_items(self._table, event_id, lead_id, str(found["session"]), str(found["status"]),
                                  str(found["waitlist_sk"]) if found.get("waitlist_sk") else None)
            for attempt in range(MAX_ATTEMPTS):
                try:
                    self._call("transact_write_items", TransactItems=items)
                except TransactionCancelled as cancelled:
                    if cancelled.codes[:1] == ["ConditionalCheckFailed"]:  # released, or promoted meanwhile
                        now_held = self._get(keys.event_pk(event_id), keys.registration_sk(lead_id))
                        if now_held is None:
                            break  # released by an earlier run
                        session, status = str(now_held["session"]), str(now_held["status"])
                        items = release_items(self._table, event_id, lead_id, session, status, keys.waitlist_sk(
                            session, str(now_held["registered_at"]), lead_id) if status == "waitlisted" else None)
                    elif not cancelled.lost_race():
                        raise StoreUnavailable(f"seminar place not released: {cancelled.codes}") from cancelled
                    backoff(attempt)
                    continue
                break

    def verdicts_due(self, until: str, limit: int) -> list[DueVerdict]:
        """Verdict deadlines passed by `until`, oldest first: the index's entries, then their items in one read."""
        entries = self._due(keys.FEEDBACK_DUE, until, limit, ("lead_id", "due_sk"))
        found = {str(item["lead_id"]): item for item in self._batch_get(
            [item_key(keys.lead_pk(str(entry["lead_id"])), keys.FEEDBACK_SK) for entry in entries])}
        return [DueVerdict(lead_id, str(item["handoff_id"]), str(item["owner"]), item.get("team"), item["step"],
                           str(item["due_sk"]))
                for entry in entries if (item := found.get(lead_id := str(entry["lead_id"])))
                and item.get("due_sk") == entry["due_sk"]]

    def handoff_item(self, lead_id: str, handoff_id: str) -> dict[str, Any] | None:
        return self._get(keys.lead_pk(lead_id), keys.handoff_sk(handoff_id))

    def advance_verdict(self, due: DueVerdict, next_due: str | None) -> bool:
        """The deadline's next step (the escalation, at `next_due`) or its end, if it is still what was read."""
        key = item_key(keys.lead_pk(due.lead_id), keys.FEEDBACK_SK)
        seen = {":seen": {"S": due.due_sk}}
        try:
            if next_due is None:
                self._call("delete_item", TableName=self._table, Key=key, ConditionExpression="due_sk = :seen",
                           ExpressionAttributeValues=seen)
            else:
                changes = Update().set("step", "escalate").set("due_sk", keys.due_sk(next_due, due.lead_id))
                self._call("update_item", TableName=self._table, Key=key, ConditionExpression="due_sk = :seen",
                           **changes.arguments(seen))
        except ConditionFailed:
            return False  # another tick, a verdict or a reassignment got there first
        return True

    def expired_unconfirmed(self, until: str, limit: int) -> list[ExpiredRequest]:
        """Double opt-in leads (or their removal markers) whose time ran out by `until`, oldest first."""
        return [ExpiredRequest(str(item["lead_id"]), str(item["due_sk"]))
                for item in self._due(keys.UNCONFIRMED_DUE, until, limit, ("lead_id", "due_sk"))]

    def remove_unconfirmed(self, expired: ExpiredRequest) -> bool:
        """Like an erasure, but the address is not suppressed (its owner never agreed, and may sign up later) and
        its browsers become anonymous again; the form's `removed` counter moves with the profile's delete. The
        marker stays in the due index until the sweep is done, so the next tick finishes what this one began."""
        from nurture.adapters.counters import step_count  # not on the scorer's cold start
        from nurture.adapters.purchase_store import COUNTED_NAMES, counted_out

        pk = keys.lead_pk(expired.lead_id)
        profile = self.profile(expired.lead_id, "email_key, vids, double_opt_in, due_sk, account, customer")
        if profile is None:
            plan = self._get(pk, keys.ERASURE_SK)
            if plan is None or plan.get("due_sk") != expired.due_sk:
                return False
            self._sweep(expired.lead_id, str(plan["email_key"]), sorted(plan.get("vids") or ()),
                        str(plan["erased_at"]), tombstone=False, account=plan.get("account"))
            return True
        request = profile.get("double_opt_in") or {}
        if profile.get("due_sk") != expired.due_sk or not request:
            return False  # confirmed, or asked again, since the index was read
        email_key, vids, at = str(profile["email_key"]), sorted(profile.get("vids") or ()), iso(utc_now())
        account = profile.get("account")
        held, held_values = account_as_read(account)
        marker = self._erasure_marker(pk, email_key, vids, at, account)
        marker["Put"]["Item"].update(to_item({"due_pk": keys.UNCONFIRMED_DUE, "due_sk": expired.due_sk}))
        counted, counted_values, uncounted = counted_out(self._table, profile.get("customer"))  # one who bought
        try:
            self._call("transact_write_items", TransactItems=[
                marker,
                {"Delete": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                            "ConditionExpression": f"attribute_exists(double_opt_in) AND due_sk = :seen AND {held} "
                                                   f"AND {counted}", "ExpressionAttributeNames": COUNTED_NAMES,
                            "ExpressionAttributeValues": {":seen": {"S": expired.due_sk}, **held_values,
                                                          **counted_values}}},
                step_count(self._table, COUNTERS, str(request.get("form_id") or "unknown"), expired.lead_id,
                           "removed"),
                *uncounted,
            ])
        except TransactionCancelled as cancelled:
            if cancelled.codes[1] == "ConditionalCheckFailed" or cancelled.lost_race():
                return False  # confirmed (or asked again) at this very moment: the next tick looks again
            raise StoreUnavailable(f"removal cancelled: {cancelled.codes}") from cancelled
        self._sweep(expired.lead_id, email_key, vids, at, tombstone=False, account=account)
        return True

    def _erasure_marker(self, pk: str, email_key: str, vids: list[str], at: str,
                        account: str | None) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": to_item({
            "PK": pk, "SK": keys.ERASURE_SK, "email_key": email_key, "vids": set(vids) or None, "erased_at": at,
            "account": account})}}

    def _sweep(self, lead_id: str, email_key: str, vids: list[str], at: str, tombstone: bool,
               account: str | None) -> None:
        """Everything left of a lead whose profile is gone, its marker last. `tombstone`: its browsers' later hits
        are dropped (an erased person's); otherwise they are anonymous visitors again."""
        pk = keys.lead_pk(lead_id)
        doomed: list[dict[str, Any]] = []
        if account is not None:  # its place among its company's people, and what the account remembers of it
            doomed.append(item_key(keys.account_pk(str(account)), keys.member_sk(lead_id)))
        for vid in vids:
            # The browser's link to the lead goes (unless someone has claimed the browser anew since: a rerun
            # leaves that alone).
            identity = item_key(keys.visitor_pk(vid), keys.VISITOR_IDENTITY_SK)
            owned = {"ConditionExpression": "attribute_not_exists(lead_id) OR lead_id = :gone",
                     "ExpressionAttributeValues": {":gone": {"S": lead_id}}}
            with contextlib.suppress(ConditionFailed):
                if tombstone:
                    self._call("put_item", TableName=self._table, Item={**identity, **to_item(
                        {"erased": True, "erased_at": at})}, **owned)
                else:
                    self._call("delete_item", TableName=self._table, Key=identity, **owned)
            doomed += [item_key(i["PK"]["S"], i["SK"]["S"]) for i in self._query_all(keys.visitor_pk(vid))
                       if i["SK"]["S"] != keys.VISITOR_IDENTITY_SK]
        # Gathered only now: a browser's hit is written on the lead while the browser is linked to it, so every
        # one that got in is found here.
        doomed += [item_key(i["PK"]["S"], i["SK"]["S"]) for i in self._query_all(pk) if i["SK"]["S"] != keys.ERASURE_SK]
        batch_delete(self._ddb, self._table, doomed)
        if account is not None:
            self._forget_in_account(str(account), lead_id)
        with contextlib.suppress(ConditionFailed):  # the address may be a new lead's already
            self._call("delete_item", TableName=self._table, Key=item_key(keys.email_claim_pk(email_key),
                                                                          keys.EMAIL_CLAIM_SK),
                       ConditionExpression="lead_id = :gone", ExpressionAttributeValues={":gone": {"S": lead_id}})
        self._call("delete_item", TableName=self._table, Key=item_key(pk, keys.ERASURE_SK))

    def _forget_in_account(self, account: str, lead_id: str) -> None:
        """The account's state forgets the lead, its place being gone: with no one left, the state goes; else the
        lead's pattern marks and the standing's name go (the person may have typed it; the next refresh names the
        company from its people left), and a firing through it names no one. When patterns fired stays: a company
        is not handed on twice for one pattern. The version moves, so a teller that read it tells again."""
        pk = keys.account_pk(account)
        key = item_key(pk, keys.ACCOUNT_STATE_SK)
        if next(self._query_all(pk, keys.MEMBER_PREFIX), None) is None:
            self._call("delete_item", TableName=self._table, Key=key)
            return
        state = self._get(pk, keys.ACCOUNT_STATE_SK, "marks, fired")
        if state is None:
            return
        changes = Update().remove("name").add("version", {"N": "1"})
        for pattern, people in (state.get("marks") or {}).items():
            if lead_id in people:
                changes.remove(f"marks.{pattern}.{lead_id}")
        for pattern, fired in (state.get("fired") or {}).items():
            if fired.get("lead_id") == lead_id:
                changes.set(f"fired.{pattern}.lead_id", "")
        with contextlib.suppress(ConditionFailed):  # gone meanwhile: nothing to forget
            self._call("update_item", TableName=self._table, Key=key, ConditionExpression="attribute_exists(PK)",
                       **changes.arguments())

    def confirm_subscription(self, confirmation: Confirmation) -> bool:
        """The request closed, the consent (and its record) confirmed, the activity and the form's counter, in one
        transaction; False when the lead has no open request any more."""
        from nurture.adapters.counters import step_count  # not on the scorer's cold start

        pk, at = keys.lead_pk(confirmation.lead_id), confirmation.activity.occurred_at
        consent = confirmation.consent
        update = Update().remove("double_opt_in").remove("due_pk").remove("due_sk").set("updated_at", at)
        if consent is not None:
            update.set("consent.confirmed_at", at)
        items: list[dict[str, Any]] = [
            {"Update": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                        "ConditionExpression": "attribute_exists(double_opt_in)", **update.arguments()}},
            {"Put": {"TableName": self._table, "Item": {**self._activity_item(pk, confirmation.activity),
                                                        "lead_id": {"S": confirmation.lead_id}}}},
            step_count(self._table, COUNTERS, confirmation.form_id, confirmation.lead_id, "confirmed"),
        ]
        if consent is not None and consent.get("recorded_at") and consent.get("event_id"):
            # The consent record itself: proof of when, and from where, its person confirmed it.
            proof = Update().set("confirmed_at", at)
            if confirmation.source_ip:
                proof.set("confirmed_ip", confirmation.source_ip)
            items.append({"Update": {"TableName": self._table,
                                     "Key": item_key(pk, keys.consent_sk(consent["recorded_at"], consent["event_id"])),
                                     "ConditionExpression": "attribute_exists(PK)", **proof.arguments()}})
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                return False
            if cancelled.codes[3:4] == ["ConditionalCheckFailed"]:  # before lost_race, which would retry it
                raise StoreUnavailable("the consent record of the lead is missing") from cancelled
            if cancelled.lost_race():
                raise WriteConflict("the lead was being written at the same moment") from cancelled
            raise StoreUnavailable(f"confirmation cancelled: {cancelled.codes}") from cancelled
        return True

    # --- tracking -----------------------------------------------------------------------------

    def visitor_lead(self, vid: str) -> str | None:
        """Half a read unit: the lead a browser belongs to, as an eventually consistent read last saw it."""
        identity = self._get(keys.visitor_pk(vid), keys.VISITOR_IDENTITY_SK, "lead_id", consistent=False) or {}
        lead_id = identity.get("lead_id")
        return lead_id if isinstance(lead_id, str) else None

    def record_browser_activity(self, lead_id: str, activities: list[Activity], quota: Quota) -> None:
        """The events on the lead, on condition that the browser still belongs to it: a check of the small
        identity item, where checking the profile is billed by the profile's size. An erasure or a removal
        unlinks the browser before it gathers what to delete (`_sweep`), so nothing lands after it. VisitorMoved
        when the browser is no longer the lead's."""
        pk = keys.lead_pk(lead_id)
        try:
            self._write_hits({"Key": item_key(keys.visitor_pk(quota.vid), keys.VISITOR_IDENTITY_SK),
                              "ConditionExpression": "lead_id = :lead",
                              "ExpressionAttributeValues": {":lead": {"S": lead_id}}},
                             quota, pk, activities, {"lead_id": {"S": lead_id}})
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                raise VisitorMoved(quota.vid) from cancelled
            raise self._hits_refused(cancelled, quota) from cancelled

    def record_visitor_activity(self, vid: str, activities: list[Activity], quota: Quota) -> None:
        """The events, on condition the visitor is still anonymous and within its quota.

        The condition orders every anonymous write before the identify that merges them, so no
        hit can slip in after the merge and be stranded.
        """
        pk = keys.visitor_pk(vid)
        try:
            self._write_hits({"Key": item_key(pk, keys.VISITOR_IDENTITY_SK), "ConditionExpression":
                              "attribute_not_exists(PK)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                             quota, pk, activities)
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                identity = from_item(cancelled.reasons[0].get("Item") or {})
                if "lead_id" not in identity:  # the tombstone an erasure leaves
                    raise VisitorErased(vid) from cancelled
                raise VisitorIdentified(identity["lead_id"]) from cancelled
            raise self._hits_refused(cancelled, quota) from cancelled

    def unsubscribe(self, lead_id: str, activity: Activity) -> bool:
        """Status, suppression entry and an `unsubscribe` activity, in one transaction; once."""
        profile = self.profile(lead_id, "email_key") or {}
        if "email_key" not in profile:
            return False  # erased: its suppression entry already stands
        try:
            self._call("transact_write_items", TransactItems=[
                {"Update": {"TableName": self._table, "Key": item_key(keys.lead_pk(lead_id), keys.PROFILE),
                            "UpdateExpression": "SET #status = :unsubscribed, unsubscribed_at = :at",
                            "ConditionExpression": "attribute_exists(PK) AND #status <> :unsubscribed",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_item({":unsubscribed": "unsubscribed",
                                                                  ":at": activity.occurred_at})}},
                {"Update": {"TableName": self._table,
                            "Key": item_key(keys.suppression_pk(str(profile["email_key"])), keys.SUPPRESSION_SK),
                            "UpdateExpression": "SET reason = if_not_exists(reason, :reason), suppressed_at = "
                                                "if_not_exists(suppressed_at, :at)",
                            "ExpressionAttributeValues": to_item({":reason": "unsubscribed",
                                                                  ":at": activity.occurred_at})}},
                {"Put": {"TableName": self._table,
                         "Item": {**self._activity_item(keys.lead_pk(lead_id), activity), "lead_id": {"S": lead_id}}}},
            ])
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                return False  # already unsubscribed (or erased meanwhile): nothing more to do
            if cancelled.lost_race():
                raise WriteConflict("the lead was being written at the same moment") from cancelled
            raise StoreUnavailable(f"unsubscribe cancelled: {cancelled.codes}") from cancelled
        return True

    def set_choices(self, lead_id: str, entries: dict[str, dict[str, str]], map_exists: bool,
                    activity: Activity, record: dict[str, Any]) -> None:
        """The lead's choices per subscription type (each entry replaces that type's), the activity that tells of
        them and their consent record (`record`, kept under its time and event), in one transaction. `map_exists`:
        whether the profile read had a subscriptions map (entries go into it; else the map is made of them).
        WriteConflict when the profile no longer is as read (its map made meanwhile, the lead unsubscribed or
        erased), or another write raced this one."""
        names = {"#subscriptions": "subscriptions", "#status": "status"}
        values: dict[str, Any] = {":unsubscribed": "unsubscribed"}
        if map_exists:
            sets = []
            for n, (kind, entry) in enumerate(sorted(entries.items())):
                names[f"#t{n}"], values[f":c{n}"] = kind, entry
                sets.append(f"#subscriptions.#t{n} = :c{n}")
            update, condition = "SET " + ", ".join(sets), "attribute_exists(#subscriptions)"
        else:
            values[":map"] = entries
            update = "SET #subscriptions = :map"
            condition = "attribute_exists(PK) AND attribute_not_exists(#subscriptions)"
        pk = keys.lead_pk(lead_id)
        consent = {"PK": pk, "SK": keys.consent_sk(record["recorded_at"], record["event_id"]), "lead_id": lead_id,
                   **record}
        try:
            self._call("transact_write_items", TransactItems=[
                {"Update": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                            "UpdateExpression": update,
                            "ConditionExpression": f"{condition} AND #status <> :unsubscribed",
                            "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}},
                {"Put": {"TableName": self._table,
                         "Item": {**self._activity_item(pk, activity), "lead_id": {"S": lead_id}}}},
                {"Put": {"TableName": self._table, "Item": to_item(consent)}},
            ])
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed" or cancelled.lost_race():
                raise WriteConflict("the lead was being written at the same moment") from cancelled
            raise StoreUnavailable(f"choices cancelled: {cancelled.codes}") from cancelled

    def count_person_click(self, lead_id: str, message_id: str, counter: str) -> bool:
        """The send marker notes the first click, and the variant's counter moves with it: once per email."""
        from nurture.adapters.counters import step_count  # not on the scorer's cold start

        try:
            self._call("transact_write_items", TransactItems=[
                {"Update": {"TableName": self._table, "Key": item_key(keys.lead_pk(lead_id), keys.send_sk(message_id)),
                            "UpdateExpression": "SET person_clicked = :yes",
                            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(person_clicked)",
                            "ExpressionAttributeValues": {":yes": {"BOOL": True}}}},
                step_count(self._table, CAMPAIGN_COUNTERS, counter, lead_id, "clicked_people")])
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                return False
            raise StoreUnavailable(f"click count cancelled: {cancelled.codes}") from cancelled
        return True

    def record_lead_activity(self, lead_id: str, activities: list[Activity], quota: Quota | None = None) -> None:
        """The events, on condition that the lead still exists, in the same call: an erased lead's old
        pixel and links, or its browser, write nothing (LeadGone). A browser's events count toward its
        quota too (OverQuota)."""
        pk = keys.lead_pk(lead_id)
        try:
            self._write_hits({"Key": item_key(pk, keys.PROFILE), "ConditionExpression": "attribute_exists(PK)"},
                             quota, pk, activities, {"lead_id": {"S": lead_id}})
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                raise LeadGone(lead_id) from cancelled
            raise self._hits_refused(cancelled, quota) from cancelled

    def record_once(self, lead_id: str, activity: Activity, client_id: str | None = None) -> bool:
        """The activity under a lead that still exists (LeadGone otherwise), once: False if it was recorded before,
        by its key or, given a `client_id`, by a marker of that id kept as long as the activity."""
        pk = keys.lead_pk(lead_id)
        items: list[dict[str, Any]] = [
            {"ConditionCheck": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                                "ConditionExpression": "attribute_exists(PK)"}},
            {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                     "Item": {**self._activity_item(pk, activity), "lead_id": {"S": lead_id}}}}]
        if client_id is not None:
            items.append(self._once_marker(pk, keys.recorded_id_sk(client_id), activity))
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                raise LeadGone(lead_id) from cancelled
            if "ConditionalCheckFailed" in cancelled.codes[1:]:
                return False
            raise StoreUnavailable(f"the activity could not be recorded: {cancelled.codes}") from cancelled
        return True

    def _write_hits(self, check: dict[str, Any], quota: Quota | None, pk: str, activities: list[Activity],
                    extra: dict[str, Any] | None = None) -> None:
        """Events under `pk` in transactions that hold only if `check` (the transaction's first item) and the
        visitor's quota (its second, if any) do. TransactionCancelled is the caller's to read."""
        for chunk in chunks(activities, TRANSACTION_LIMIT - 2):
            items: list[dict[str, Any]] = [{"ConditionCheck": {"TableName": self._table, **check}}]
            if quota is not None:
                items.append(self._quota(quota, sum(event_count(activity) for activity in chunk)))
            items += [{"Put": {"TableName": self._table,
                               "Item": {**self._activity_item(pk, activity), **(extra or {})}}} for activity in chunk]
            self._call("transact_write_items", TransactItems=items)

    @staticmethod
    def _hits_refused(cancelled: TransactionCancelled, quota: Quota | None) -> Exception:
        """What a cancellation that the first item's check did not cause means."""
        if quota is not None and cancelled.codes[1] == "ConditionalCheckFailed":
            return OverQuota(quota.vid)
        if cancelled.lost_race():
            return WriteConflict("another request was writing the same items")
        return StoreUnavailable(f"hits cancelled: {cancelled.codes}")

    # --- helpers ------------------------------------------------------------------------------

    def _quota(self, quota: Quota, count: int) -> dict[str, Any]:
        """The visitor's count for this minute, raised by `count` only while it stays within the quota."""
        return {"Update": {
            "TableName": self._table, "Key": item_key(keys.visitor_pk(quota.vid), keys.visitor_rate_sk(quota.window)),
            "UpdateExpression": "ADD hits :count SET expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(hits) OR hits <= :room",
            "ExpressionAttributeValues": {":count": {"N": str(count)}, ":expires": {"N": str(quota.expires_at)},
                                          ":room": {"N": str(quota.limit - count)}}}}


    def _profile_update(self, write: SubmissionWrite) -> dict[str, Any]:
        """Progressive profiling: SET only what was submitted, never REMOVE; ADD the counters."""
        update = Update()
        for name, value in write.profile.items():
            update.set(name, value)
        for name, value in write.custom.items():
            update.set(f"custom.{name}", value)
        for name, amount in write.counters.items():
            update.add(name, {"N": str(amount)})
        # Which kinds of form the lead has used: sequences may enroll by them.
        update.add("form_kinds", {"SS": [str(write.activity.data["form_kind"])]})
        if write.claim_visitor:
            # Which visitor ids are this lead's: erasure deletes their history too.
            update.add("vids", {"SS": [write.claim_visitor]})
        # The lead may have been erased, or changed by another submission, since we read it: then start over.
        seen = "updated_at = :seen" if write.seen_updated_at else "attribute_not_exists(updated_at)"
        return {
            "TableName": self._table,
            "Key": item_key(keys.lead_pk(write.lead_id), keys.PROFILE),
            "ConditionExpression": f"attribute_exists(PK) AND {seen}",
            **update.arguments({":seen": {"S": write.seen_updated_at}} if write.seen_updated_at else None),
        }


