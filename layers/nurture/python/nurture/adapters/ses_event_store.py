"""DynamoDB side of SES events: who the recipient is, and each event's effects written once."""

from __future__ import annotations

from typing import Any

from nurture import keys
from nurture.adapters.counters import day_count, step_count
from nurture.adapters.dynamo import DynamoTable, TransactionCancelled, Update, item_key, to_item
from nurture.domain.clock import expiry, iso
from nurture.domain.deliverability import day_of
from nurture.domain.errors import StoreUnavailable, WriteConflict
from nurture.domain.ses_events import AddressState, EventEffect, SesEvent
from nurture.domain.text import email_key

MARKER_DAYS = 30  # SQS keeps a message at most 14 days: no redelivery comes later


class DynamoSesEventStore(DynamoTable):

    def address_state(self, event: SesEvent) -> AddressState:
        """The lead the sender tagged, or the one that owns the address; its transient-bounce count."""
        key = email_key(event.recipient)
        lead_id = event.tags.get("lead") or self.find_lead_id(key)
        if lead_id is None:
            return AddressState(key, None)
        profile = self.profile(lead_id, "email_key, transient_bounces") or {}
        if profile.get("email_key") != key:
            return AddressState(key, None)  # erased, or a tag that does not match the address
        return AddressState(key, lead_id, int(profile.get("transient_bounces", 0)))

    def record_ses_event(self, effect: EventEffect) -> bool:
        """One transaction; False when this event was recorded before (its activity exists)."""
        event, address = effect.event, effect.address
        items: list[dict[str, Any]] = []
        if address.lead_id is not None and effect.activity is not None:
            pk = keys.lead_pk(address.lead_id)
            items.append({"Put": {
                "TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                "Item": to_item({"PK": pk, "SK": keys.event_sk(effect.activity.occurred_at, effect.activity.event_id),
                                 "lead_id": address.lead_id, **effect.activity.attributes()})}})
            profile = Update()
            if effect.suppress is not None:
                profile.set("status", effect.suppress).set(f"{effect.suppress}_at", effect.activity.occurred_at)
            if effect.count_transient_bounce:
                profile.add("transient_bounces", {"N": "1"})
            if effect.reset_transient_bounces:
                profile.set("transient_bounces", 0)
            # Only while the lead exists: an erasure between our read and this write leaves nothing behind.
            if effect.suppress is not None or effect.count_transient_bounce or effect.reset_transient_bounces:
                items.append({"Update": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                                         "ConditionExpression": "attribute_exists(PK)", **profile.arguments()}})
            else:
                items.append({"ConditionCheck": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                                                 "ConditionExpression": "attribute_exists(PK)"}})
        if effect.suppress is not None:
            items.append({"Update": {
                "TableName": self._table, "Key": item_key(keys.suppression_pk(address.email_key), keys.SUPPRESSION_SK),
                "UpdateExpression": "SET reason = if_not_exists(reason, :reason), suppressed_at = "
                                    "if_not_exists(suppressed_at, :at)",
                "ExpressionAttributeValues": to_item({":reason": effect.suppress,
                                                      ":at": iso(event.occurred_at)})}})
        if event.permanent_failure:
            # The guard's numerators count as SES's reputation does: hard bounces and complaints.
            items.append(day_count(self._table, day_of(iso(event.occurred_at)), address.email_key,
                                   "complained" if event.kind == "complaint" else "bounced"))
        if effect.counter is not None and address.lead_id is not None:
            sequence, step, name = effect.counter
            items.append(step_count(self._table, sequence, step, address.lead_id, name))
        if not items:
            return True  # nothing of ours to change (an event about an address we do not know)
        if address.lead_id is None:
            # No activity to be the guard against a redelivery: a marker of its own, kept past SQS's retention.
            items.insert(0, {"Put": {
                "TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                "Item": to_item({"PK": keys.ses_event_pk(event.key), "SK": keys.SES_EVENT_SK,
                                 "expires_at": expiry(event.occurred_at, MARKER_DAYS)})}})
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if cancelled.codes[0] == "ConditionalCheckFailed":
                return False  # its activity, or its marker, exists: delivered before
            if address.lead_id is not None and cancelled.codes[1:2] == ["ConditionalCheckFailed"]:
                # Erased since we looked: the redelivery finds no lead and records only what outlives it.
                raise WriteConflict("the lead was erased meanwhile") from cancelled
            if cancelled.lost_race():
                raise WriteConflict("the lead changed meanwhile") from cancelled
            raise StoreUnavailable(f"SES event cancelled: {cancelled.codes}") from cancelled
        return True
