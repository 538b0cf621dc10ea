"""What functions hand each other through queues, as msgspec Structs: checked when made and when read, written as
JSON, without pydantic on a function's cold start (docs/decisions.md, decision 89)."""

from __future__ import annotations

from typing import Annotated, Any, Self

import msgspec

from nurture.jsonable import plain

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]  # a lead's, an event's, a form's, a campaign's
SessionId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # as config/events.py allows
Moment = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # an ISO 8601 time as stored
MessageInvalid = msgspec.ValidationError  # a message that is not what its type says: what and where


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """Unknown keys are ignored when read, so a message queued by the release before is still read."""

    @classmethod
    def of(cls, **fields: Any) -> Self:
        """A message from values as stores give them (DynamoDB's numbers are Decimals), checked as its type says:
        MessageInvalid when one is not."""
        return msgspec.convert(plain(fields), cls)

    @classmethod
    def read(cls, body: str | bytes) -> Self:
        """The message a queue delivered; MessageInvalid when the body is not one."""
        return msgspec.json.decode(body, type=cls)

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    def as_data(self) -> dict[str, Any]:
        """The message as JSON-ready data (nested messages as dicts)."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    def replaced(self, **changes: Any) -> Self:
        """The message with `changes`, checked as `of` checks a new one."""
        return msgspec.convert(plain({**msgspec.structs.asdict(self), **changes}), type(self))


class LeadMessage(Message, frozen=True, kw_only=True):
    """The base of the send queue's messages about one lead: what the scorer's stream and the dispatcher hand the
    sender."""

    lead_id: Id
