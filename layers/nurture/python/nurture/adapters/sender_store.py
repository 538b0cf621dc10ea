"""DynamoDB side of the sender: the lead right before sending, the send marker, and the send's record."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from nurture import keys
from nurture.adapters.counters import day_count, step_count
from nurture.adapters.deliverability_store import PauseReader
from nurture.adapters.dynamo import (
    ConditionFailed,
    TransactionCancelled,
    Update,
    item_key,
    score_version_condition,
    to_item,
)
from nurture.adapters.event_store import DynamoRegistrations
from nurture.domain.campaigns.lifecycle import CampaignMessage
from nurture.domain.clock import iso, parse_iso
from nurture.domain.deliverability import day_of
from nurture.domain.errors import StoreUnavailable, WriteConflict
from nurture.domain.sending import AlreadyRecorded, SendRecord

SES_CLOCK_SKEW = timedelta(minutes=1)  # SES's clock and ours: its Send event may be stamped a little earlier


class DynamoSenderStore(PauseReader, DynamoRegistrations):

    def lead_for_sending(self, lead_id: str) -> tuple[dict[str, Any], bool] | None:
        """The profile (strongly consistent) and whether its address is suppressed: two reads."""
        profile = self.profile(lead_id)
        if profile is None:
            return None
        return profile, self.suppressed(str(profile.get("email_key")))

    def begin_send(self, lead_id: str, message_id: str, at: str, expires_at: int,
                   attempt: str) -> dict[str, Any] | None:
        """Put the marker unless one exists (an abandoned one is taken over); an existing marker is
        returned instead. `attempt` tells our own marker from another sender's."""
        try:
            self._call("put_item", TableName=self._table,
                               ConditionExpression="attribute_not_exists(PK) OR #status = :abandoned",
                               ExpressionAttributeNames={"#status": "status"},
                               ExpressionAttributeValues={":abandoned": {"S": "abandoned"}},
                               ReturnValuesOnConditionCheckFailure="ALL_OLD",
                               Item=to_item({"PK": keys.lead_pk(lead_id), "SK": keys.send_sk(message_id),
                                             "lead_id": lead_id, "status": "sending", "at": at,
                                             "attempt": attempt, "expires_at": expires_at}))
        except ConditionFailed as exists:
            return exists.item or {"status": "sending", "at": at}
        return None

    def ses_accepted(self, lead_id: str, message_id: str, since: str) -> bool:
        """Whether SES reported anything of this message (its Send event first of all): the lead's SES events
        from a little before `since`, filtered by the message id our tags carry. One query of a few minutes'
        activity."""
        start = iso(parse_iso(since) - SES_CLOCK_SKEW)
        reported = self._pages("query", TableName=self._table, ConsistentRead=True,
                               KeyConditionExpression="PK = :pk AND SK BETWEEN :from AND :events_end",
                               FilterExpression="message_id = :message AND attribute_exists(ses_message_id)",
                               ProjectionExpression="PK",
                               ExpressionAttributeValues={":pk": {"S": keys.lead_pk(lead_id)},
                                                          ":from": {"S": keys.event_sk(start, "")},
                                                          ":events_end": {"S": keys.EVENT_PREFIX + "~"},
                                                          ":message": {"S": message_id}})
        return next(reported, None) is not None

    def take_over_send(self, lead_id: str, message_id: str, stale_attempt: str, attempt: str, at: str) -> bool:
        """Make a stale marker ours (SES never had its email); False when another sender took it first."""
        try:
            self._call("update_item", TableName=self._table, Key=item_key(keys.lead_pk(lead_id),
                                                                          keys.send_sk(message_id)),
                       UpdateExpression="SET attempt = :attempt, #at = :at",
                       # Our own retried take-over (its answer lost) finds the marker ours already.
                       ConditionExpression="#status = :sending AND (attempt = :stale OR attempt = :attempt "
                                           "OR attribute_not_exists(attempt))",
                       ExpressionAttributeNames={"#status": "status", "#at": "at"},
                       ExpressionAttributeValues=to_item({":sending": "sending", ":stale": stale_attempt,
                                                          ":attempt": attempt, ":at": at}))
        except ConditionFailed:
            return False
        return True

    def abandon_send(self, lead_id: str, message_id: str) -> None:
        """Nothing went out: the marker is marked abandoned, so a retry may send. Marked, not deleted —
        the sender's role may delete nothing in the table."""
        with contextlib.suppress(ConditionFailed):  # recorded meanwhile by another delivery: it stays
            self._call("update_item", TableName=self._table,
                       Key=item_key(keys.lead_pk(lead_id), keys.send_sk(message_id)),
                       UpdateExpression="SET #status = :abandoned", ConditionExpression="#status = :sending",
                       ExpressionAttributeNames={"#status": "status"},
                       ExpressionAttributeValues={":sending": {"S": "sending"}, ":abandoned": {"S": "abandoned"}})

    def hold(self, message: CampaignMessage, until: str, expires_at: int) -> None:
        """One item per lead and campaign on the due index's held partition: holding again moves it."""
        self._call("put_item", TableName=self._table, Item=to_item({
            "PK": keys.campaign_pk(message.campaign_id), "SK": keys.campaign_hold_sk(message.lead_id),
            "due_pk": keys.HELD_DUE, "due_sk": f"{until}#{message.campaign_id}#{message.lead_id}",
            "campaign_id": message.campaign_id, "lead_id": message.lead_id,
            "config_version": message.config_version, "expires_at": expires_at}))

    def record_send(self, record: SendRecord, expected_version: int) -> None:
        """One transaction: the lead, the activity, the marker (closed once) and the step's counter."""
        pk = keys.lead_pk(record.lead_id)
        condition, condition_values = score_version_condition(expected_version)
        profile = Update().set("scoring.version", expected_version + 1)
        if record.state is not None:
            profile.set("sequence", record.state.to_item())
            if record.reschedule and record.state.next_send_at:
                profile.set("due_pk", keys.due_pk(record.lead_id))
                profile.set("due_sk", keys.due_sk(record.state.next_send_at, record.lead_id))
            elif record.reschedule:
                profile.remove("due_pk").remove("due_sk")
        if record.outcome == "sent" and record.activity is not None:
            profile.add("emails_sent", {"N": "1"}).set("last_email_at", record.activity.occurred_at)
        if record.error is not None:
            profile.set("send_error", {"error": record.error, "step": record.step_id, "at": record.activity.occurred_at
                                       if record.activity else None, "sequence": record.sequence})
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table, "Key": item_key(pk, keys.PROFILE),
            "ConditionExpression": condition, **profile.arguments(condition_values)}}]
        marker_index = None
        if record.activity is not None:
            items.append({"Put": {"TableName": self._table, "Item": to_item(
                {"PK": pk, "SK": keys.event_sk(record.activity.occurred_at, record.activity.event_id),
                 "lead_id": record.lead_id, **record.activity.attributes()})}})
        if record.message_id is not None:
            marker_index = len(items)
            # SES's id too: a reply whose client dropped the Reply-To is found by it (its In-Reply-To).
            ses_id = {":ses": record.ses_message_id} if record.ses_message_id is not None else {}
            items.append({"Update": {
                "TableName": self._table, "Key": item_key(pk, keys.send_sk(record.message_id)),
                "UpdateExpression": "SET #status = :outcome" + (", ses_message_id = :ses" if ses_id else ""),
                "ConditionExpression": "#status = :sending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item({":outcome": record.outcome, ":sending": "sending", **ses_id})}})
        if record.outcome == "sent" and record.activity is not None:
            # The deliverability guard's denominator: sends per day.
            items.append(day_count(self._table, day_of(record.activity.occurred_at), record.lead_id, "sent"))
        for step in filter(None, (record.step_id, record.variant_step)):
            items.append(step_count(self._table, record.sequence, step, record.lead_id,
                                    record.counter or record.outcome))
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            codes = cancelled.codes
            if marker_index is not None and codes[marker_index:marker_index + 1] == ["ConditionalCheckFailed"]:
                raise AlreadyRecorded(record.message_id or "") from cancelled
            if cancelled.lost_race():
                raise WriteConflict("the lead changed meanwhile") from cancelled
            raise StoreUnavailable(f"send record cancelled: {codes}") from cancelled
