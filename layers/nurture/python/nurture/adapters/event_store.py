"""Seminar registrations in the table: under `EVENT#<id>`, each session's counters (`SESSION#<id>`: registered,
waitlisted, attended, no_show), each lead's registration (`REG#<lead>`), and the waitlist in order
(`WAIT#<session>#<at>#<lead>`)."""

from __future__ import annotations

import contextlib
from typing import Any

from nurture import keys
from nurture.adapters.dynamo import ConditionFailed, DynamoTable, TransactionCancelled, from_item, item_key, to_item
from nurture.domain.activity import Activity
from nurture.domain.errors import LeadGone, StoreUnavailable
from nurture.domain.events.reminders import DueReminder
from nurture.domain.events.requests import ATTENDED, ReminderMessage, Status
from nurture.domain.retry import MAX_ATTEMPTS, backoff

REGISTERED: Status = "registered"
WAITLISTED: Status = "waitlisted"


def release_items(table: str, event_id: str, lead_id: str, session_id: str, status: str,
                  waitlist_sk: str | None) -> list[dict[str, Any]]:
    """Transaction items that give a registration's place back: the registration deleted while it is as read, its
    session's count of its status moved down, and its waitlist place deleted (a cancellation, an erasure)."""
    pk = keys.event_pk(event_id)
    items: list[dict[str, Any]] = [
        {"Delete": {"TableName": table, "Key": item_key(pk, keys.registration_sk(lead_id)),
                    "ConditionExpression": "#status = :status AND #session = :session",
                    "ExpressionAttributeNames": {"#status": "status", "#session": "session"},
                    "ExpressionAttributeValues": {":status": {"S": status}, ":session": {"S": session_id}}}},
        {"Update": {"TableName": table, "Key": item_key(pk, keys.session_sk(session_id)),
                    "UpdateExpression": "ADD #count :minus", "ExpressionAttributeNames": {"#count": status},
                    "ExpressionAttributeValues": {":minus": {"N": "-1"}}}}]
    if waitlist_sk:
        items.append({"Delete": {"TableName": table, "Key": item_key(pk, waitlist_sk)}})
    return items


class DynamoRegistrations(DynamoTable):

    def register(self, event_id: str, session_id: str, lead_id: str, capacity: int, at: str,
                 reminder: tuple[int, str] | None) -> tuple[Status, str, str]:
        """One transaction: the registration put unless the lead has one in the event, and the session's count of
        registered people moved unless it is at capacity or people wait; else it goes to the waitlist. A place
        carries its first `reminder` (hours before, time) on the due index. Under the lead, a pointer an erasure
        finds, written only while the lead exists (LeadGone otherwise). The status, session and time of the lead's
        registration (an earlier one's, when it had one)."""
        pk = keys.event_pk(event_id)
        registration = {"PK": pk, "SK": keys.registration_sk(lead_id), "lead_id": lead_id, "session": session_id,
                        "registered_at": at}
        due = {} if reminder is None else {
            "due_pk": keys.EVENTS_DUE, "due_sk": keys.reminder_due_sk(reminder[1], event_id, lead_id, reminder[0])}
        for attempt in range(MAX_ATTEMPTS):
            for status in (REGISTERED, WAITLISTED):
                try:
                    placed = {**registration, **due} if status == REGISTERED else registration
                    self._call("transact_write_items", TransactItems=self._places(event_id, placed, status, capacity))
                    return status, session_id, at
                except TransactionCancelled as cancelled:
                    codes = [*cancelled.codes, None, None]  # one per item; DynamoDB may give none
                    if cancelled.codes[-1:] == ["ConditionalCheckFailed"]:  # the last item: the lead's profile
                        raise LeadGone(lead_id) from cancelled
                    if codes[0] == "ConditionalCheckFailed":
                        held = self._get(pk, keys.registration_sk(lead_id))
                        if held is not None:
                            return held["status"], str(held["session"]), str(held["registered_at"])
                        break  # cancelled meanwhile: try again
                    if status == REGISTERED and codes[1] == "ConditionalCheckFailed":
                        continue  # full: the waitlist
                    if not cancelled.lost_race():
                        raise StoreUnavailable(f"registration refused: {cancelled.codes}") from cancelled
                    break
            if attempt + 1 < MAX_ATTEMPTS:
                backoff(attempt)
        raise StoreUnavailable("the session kept changing while the lead was registered")

    def _places(self, event_id: str, registration: dict[str, Any], status: Status,
                capacity: int) -> list[dict[str, Any]]:
        pk = registration["PK"]
        session_id, lead_id, at = registration["session"], registration["lead_id"], registration["registered_at"]
        counter: dict[str, Any] = {"TableName": self._table, "Key": item_key(pk, keys.session_sk(session_id)),
                                   "UpdateExpression": "ADD #count :one",
                                   "ExpressionAttributeNames": {"#count": status},
                                   "ExpressionAttributeValues": {":one": {"N": "1"}}}
        if status == REGISTERED:  # below capacity, and nobody waiting: a freed seat is the waitlist's first
            counter["ConditionExpression"] = ("(attribute_not_exists(#count) OR #count < :capacity) AND "
                                              "(attribute_not_exists(waitlisted) OR waitlisted <= :none)")
            counter["ExpressionAttributeValues"] |= {":capacity": {"N": str(capacity)}, ":none": {"N": "0"}}
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "Item": to_item({**registration, "status": status}),
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": counter}]
        waitlist = keys.waitlist_sk(session_id, at, lead_id) if status == WAITLISTED else None
        if waitlist is not None:  # in the order of the posts, for promotion
            items.append({"Put": {"TableName": self._table, "Item": to_item(
                {"PK": pk, "SK": waitlist, "lead_id": lead_id})}})
        lead = keys.lead_pk(lead_id)
        items += [
            {"Put": {"TableName": self._table, "Item": to_item({
                "PK": lead, "SK": keys.event_place_sk(event_id), "session": session_id,
                "status": status, "waitlist_sk": waitlist})}},
            {"ConditionCheck": {"TableName": self._table, "Key": item_key(lead, keys.PROFILE),
                                "ConditionExpression": "attribute_exists(PK)"}}]
        return items

    def registration(self, event_id: str, lead_id: str) -> dict[str, Any] | None:
        return self._get(keys.event_pk(event_id), keys.registration_sk(lead_id))

    def due_reminders(self, until: str, limit: int) -> list[DueReminder]:
        """Registrations whose next reminder is due by `until`, soonest first (the due index's `DUE#EVENTS`)."""
        due = []
        for entry in self._due(keys.EVENTS_DUE, until, limit):
            at, event_id, lead_id, hours = str(entry["due_sk"]).split("#")
            due.append(DueReminder(ReminderMessage.of(lead_id=lead_id, event_id=event_id, hours_before=int(hours)), at,
                                   str(entry["due_sk"])))
        return due

    def move_reminder(self, due: DueReminder, following: tuple[int, str] | None) -> None:
        """On to the registration's next reminder, or off the index; unless it moved meanwhile (cancelled, say)."""
        message = due.message
        update = "SET due_sk = :next" if following is not None else "REMOVE due_pk, due_sk"
        values: dict[str, Any] = {":seen": {"S": due.due_sk}}
        if following is not None:
            values[":next"] = {"S": keys.reminder_due_sk(following[1], message.event_id, message.lead_id,
                                                         following[0])}
        with contextlib.suppress(ConditionFailed):
            self._call("update_item", TableName=self._table,
                       Key=item_key(keys.event_pk(message.event_id), keys.registration_sk(message.lead_id)),
                       UpdateExpression=update, ConditionExpression="due_sk = :seen", ExpressionAttributeValues=values)

    def session_registrations(self, event_id: str, session_id: str) -> list[str]:
        """The leads holding a place in the session (one query of the event's registrations)."""
        return [str(found["lead_id"]) for found in map(from_item, self._query_all(
            keys.event_pk(event_id), keys.registration_sk(""))) if found.get("session") == session_id
            and found.get("status") == REGISTERED]

    def mark_attendance(self, event_id: str, session_id: str, lead_id: str, activity: Activity) -> bool:
        """One transaction: the lead still there, its marker of this session's attendance new, the activity, and the
        session's count of attended or no_show moved. False when an earlier import marked the lead."""
        pk = keys.lead_pk(lead_id)
        counter = "attended" if activity.type == ATTENDED else "no_show"
        items: list[dict[str, Any]] = [
            {"ConditionCheck": {"TableName": self._table, "Key": item_key(pk, keys.PROFILE),
                                "ConditionExpression": "attribute_exists(PK)"}},
            self._once_marker(pk, keys.attendance_sk(event_id, session_id), activity),
            {"Put": {"TableName": self._table, "Item": self._activity_item(pk, activity)}},
            {"Update": {"TableName": self._table, "Key": item_key(keys.event_pk(event_id), keys.session_sk(session_id)),
                        "UpdateExpression": "ADD #count :one", "ExpressionAttributeNames": {"#count": counter},
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if cancelled.codes[:1] == ["ConditionalCheckFailed"]:
                raise LeadGone(lead_id) from cancelled
            if cancelled.codes[1:2] == ["ConditionalCheckFailed"]:
                return False
            raise StoreUnavailable(f"attendance not recorded: {cancelled.codes}") from cancelled
        return True

    def cancel_registration(self, event_id: str, registration: dict[str, Any], activity: Activity) -> bool:
        """One transaction: the registration's place given back (`release_items`), its pointer under the lead marked
        cancelled (an update: the function that cancels may delete nothing of a lead's) and the cancellation recorded
        on the lead. False when it changed meanwhile (cancelled, promoted)."""
        lead_id, session_id, status = str(registration["lead_id"]), str(registration["session"]), \
            str(registration["status"])
        waitlist = keys.waitlist_sk(session_id, str(registration["registered_at"]), lead_id) \
            if status == WAITLISTED else None
        lead = keys.lead_pk(lead_id)
        items = [*release_items(self._table, event_id, lead_id, session_id, status, waitlist),
                 {"Update": {"TableName": self._table, "Key": item_key(lead, keys.event_place_sk(event_id)),
                             "UpdateExpression": "SET #status = :cancelled REMOVE waitlist_sk",
                             "ConditionExpression": "attribute_exists(PK)",
                             "ExpressionAttributeNames": {"#status": "status"},
                             "ExpressionAttributeValues": {":cancelled": {"S": "cancelled"}}}},
                 {"Put": {"TableName": self._table, "Item": self._activity_item(lead, activity)}}]
        try:
            self._call("transact_write_items", TransactItems=items)
        except TransactionCancelled as cancelled:
            if cancelled.codes[:1] == ["ConditionalCheckFailed"] or cancelled.lost_race():
                return False
            raise StoreUnavailable(f"registration not cancelled: {cancelled.codes}") from cancelled
        return True

    def promote_next(self, event_id: str, session_id: str, capacity: int, reminder: tuple[int, str] | None,
                     offer_id: str, kept_until: int) -> str | None:
        """One transaction: the offer's marker, and the session's first waitlisted lead's place (its waitlist item
        deleted, its registration and pointer registered, with its first `reminder` on the due index) while the
        session's count is below `capacity`. The lead the offer promoted (now, or on an earlier delivery); None when
        nobody waits or the session is full."""
        pk = keys.event_pk(event_id)
        for attempt in range(MAX_ATTEMPTS):
            taken = self._get(pk, keys.offer_sk(offer_id))
            if taken is not None:
                return str(taken["lead_id"])  # a redelivery: its confirmation is sent (once) again
            first = next(self._query_all(pk, keys.waitlist_prefix(session_id)), None)
            if first is None:
                return None
            waiting = from_item(first)
            lead_id = str(waiting["lead_id"])
            try:
                self._call("transact_write_items", TransactItems=self._promotion(
                    event_id, session_id, str(waiting["SK"]), lead_id, capacity, reminder, offer_id, kept_until))
                return lead_id
            except TransactionCancelled as cancelled:
                codes = [*cancelled.codes, None, None, None, None]
                if codes[2] == "ConditionalCheckFailed":
                    return None  # full: someone registered, or another promotion took the seat
                if "ConditionalCheckFailed" not in codes and not cancelled.lost_race():
                    raise StoreUnavailable(f"waitlist not promoted: {cancelled.codes}") from cancelled
            backoff(attempt)  # the first in line cancelled or was erased, or the offer was taken, meanwhile
        raise StoreUnavailable("the waitlist kept changing while it was promoted")

    def _promotion(self, event_id: str, session_id: str, waitlist_sk: str, lead_id: str, capacity: int,
                   reminder: tuple[int, str] | None, offer_id: str, kept_until: int) -> list[dict[str, Any]]:
        pk = keys.event_pk(event_id)
        promote = "SET #status = :registered" + (", due_pk = :due_pk, due_sk = :due_sk" if reminder else "")
        values: dict[str, Any] = {":registered": {"S": REGISTERED}, ":waitlisted": {"S": WAITLISTED}}
        if reminder is not None:
            values |= {":due_pk": {"S": keys.EVENTS_DUE},
                       ":due_sk": {"S": keys.reminder_due_sk(reminder[1], event_id, lead_id, reminder[0])}}
        return [
            {"Delete": {"TableName": self._table, "Key": item_key(pk, waitlist_sk),
                        "ConditionExpression": "attribute_exists(PK)"}},
            {"Update": {"TableName": self._table, "Key": item_key(pk, keys.registration_sk(lead_id)),
                        "UpdateExpression": promote, "ConditionExpression": "#status = :waitlisted",
                        "ExpressionAttributeNames": {"#status": "status"}, "ExpressionAttributeValues": values}},
            {"Update": {"TableName": self._table, "Key": item_key(pk, keys.session_sk(session_id)),
                        "UpdateExpression": "ADD registered :one, waitlisted :minus",
                        "ConditionExpression": "attribute_not_exists(registered) OR registered < :capacity",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":minus": {"N": "-1"},
                                                      ":capacity": {"N": str(capacity)}}}},
            {"Update": {"TableName": self._table, "Key": item_key(keys.lead_pk(lead_id), keys.event_place_sk(event_id)),
                        "UpdateExpression": "SET #status = :registered REMOVE waitlist_sk",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":registered": {"S": REGISTERED}}}},
            {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                     "Item": to_item({"PK": pk, "SK": keys.offer_sk(offer_id), "lead_id": lead_id,
                                      "session": session_id, "expires_at": kept_until})}}]

    def session_counts(self, sessions: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, int]]:
        """Each (event, session)'s registered and waitlisted counts: one BatchGetItem per 100, eventually
        consistent (a tick's offer of a seat is checked again when it is given)."""
        found = self._batch_get([item_key(keys.event_pk(event_id), keys.session_sk(session_id))
                                 for event_id, session_id in sessions], consistent=False,
                                projection=("PK", "SK", "registered", "waitlisted"))
        return {(str(item["PK"]).removeprefix(keys.event_pk("")), str(item["SK"]).removeprefix(keys.session_sk(""))):
                {name: int(item.get(name, 0)) for name in ("registered", "waitlisted")} for item in found}
