"""Where replies are read and recorded: the raw message as SES receiving stored it in S3, and the lead's
history in the table (the email replied to, the reply's activity, an opt-out's choice)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nurture import keys
from nurture.adapters.aws import client, no_such_object
from nurture.adapters.dynamo import from_item
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.domain.errors import StoreUnavailable
from nurture.domain.replies.reading import MAX_MESSAGE_BYTES
from nurture.domain.replies.receiving import Answered, SentEmail
from nurture.domain.text import InvalidEmail, email_key, normalize_email


class MessageTooLarge(ValueError):
    """A stored message past what a reply is read at (MAX_MESSAGE_BYTES): refused unread."""


class MessageGone(LookupError):
    """No stored message of that name: the bucket's lifecycle removed it, or it never was."""


class S3ReplyMail:
    """The raw messages SES receiving put in the reply bucket, each under `prefix` + SES's message id."""

    def __init__(self, bucket: str, prefix: str, s3: Any = None):
        self._bucket, self._prefix = bucket, prefix
        self._s3 = s3

    @property
    def _client(self) -> Any:
        return self._s3 or client("s3")  # the shared client (adapters.aws), unless one was given

    def raw(self, ses_message_id: str) -> bytes:
        """The message's bytes, read only when its size is one a reply can have."""
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._prefix + ses_message_id)
        except ClientError as error:
            if no_such_object(error):
                raise MessageGone(ses_message_id) from error
            raise StoreUnavailable(f"s3 {error.response['Error']['Code']}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"s3 {type(error).__name__}") from error
        body = answer["Body"]
        try:
            if int(answer.get("ContentLength", 0)) > MAX_MESSAGE_BYTES:
                raise MessageTooLarge(ses_message_id)
            return bytes(body.read(MAX_MESSAGE_BYTES + 1))
        finally:
            body.close()


class DynamoReplyStore(DynamoLeadStore):

    def sent_email(self, lead_id: str, message_prefix: str) -> SentEmail | None:
        """The send marker whose message id starts with `message_prefix`, and what its `email_sent` activity
        says was sent: two reads, for a reply."""
        markers = self._markers(lead_id, message_prefix)
        return self._sent(lead_id, markers[0]) if len(markers) == 1 else None  # none kept; or, never, two

    def sent_by_ses_id(self, address: str, ses_message_ids: list[str]) -> Answered | None:
        """The lead that owns `address`, if SES sent it an email under one of the ids: a claim read and the lead's
        send markers queried."""
        try:
            lead_id = self.find_lead_id(email_key(normalize_email(address)))
        except InvalidEmail:
            return None
        if lead_id is None:
            return None
        marker = next((m for m in self._markers(lead_id, "") if m.get("ses_message_id") in ses_message_ids), None)
        return Answered(lead_id, self._sent(lead_id, marker)) if marker is not None else None

    def _markers(self, lead_id: str, message_prefix: str) -> list[dict[str, Any]]:
        return [from_item(item) for item in self._query_all(keys.lead_pk(lead_id), keys.send_sk(message_prefix))]

    def _sent(self, lead_id: str, marker: dict[str, Any]) -> SentEmail:
        message_id = str(marker["SK"]).removeprefix(keys.send_sk(""))
        sent = self._get(keys.lead_pk(lead_id), keys.event_sk(str(marker["at"]), message_id),
                         "sequence, step, campaign, template") or {}
        return SentEmail(message_id, sent.get("sequence"), sent.get("step"), sent.get("campaign"),
                         sent.get("template"))
