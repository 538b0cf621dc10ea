"""What SES publishes through the configuration set about a sent email, for the local runtime and
`nurture simulate`: Send, Delivery, Bounce, Complaint, Open and Click records.

The records have SES's event-publishing shape (with the sender's message tags, as in AWS's samples),
and go the same way as in AWS: onto EventBridge's default bus as `aws.ses` events, whose rule (the stack's
pattern) sends them to the SQS queue of the real `ses_events` function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.policy import default
from typing import Any

import boto3

from nurture.domain.ses_events import DETAIL_TYPES
from nurture.local.emulator import SentEmail
from nurture.topology import SES_EVENT_SOURCE

ACCOUNT = "123456789012"
MTA = "a27-1.smtp-out.ap-northeast-1.amazonses.com"


def ses_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class SesMail:
    """One sent email as SES describes it in every event about it."""

    mail: dict[str, Any]
    recipient: str

    @classmethod
    def of(cls, email: SentEmail, configuration_set: str, sent_at: datetime) -> SesMail:
        message = message_from_bytes(email.raw, policy=default)
        recipient, sender = str(message["To"]), str(message["From"])
        return cls({
            "timestamp": ses_time(sent_at), "source": sender, "sendingAccountId": ACCOUNT,
            "messageId": email.ses_message_id, "destination": [recipient], "headersTruncated": False,
            "commonHeaders": {"from": [sender], "to": [recipient], "subject": str(message["Subject"])},
            "tags": {"ses:configuration-set": [configuration_set], **{k: [v] for k, v in email.tags.items()}},
        }, recipient)

    def _record(self, event_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        return {"eventType": event_type, "mail": self.mail, event_type.lower(): detail}

    def send(self) -> dict[str, Any]:
        return self._record("Send", {})

    def delivery(self, at: datetime) -> dict[str, Any]:
        return self._record("Delivery", {"timestamp": ses_time(at), "processingTimeMillis": 420,
                                         "recipients": [self.recipient], "smtpResponse": "250 2.0.0 OK",
                                         "reportingMTA": MTA})

    def bounce(self, at: datetime) -> dict[str, Any]:
        """The address does not exist: a permanent bounce."""
        return self._record("Bounce", {
            "bounceType": "Permanent", "bounceSubType": "General", "timestamp": ses_time(at),
            "bouncedRecipients": [{"emailAddress": self.recipient, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "feedbackId": f"{self.mail['messageId']}-bounce", "reportingMTA": f"dsn; {MTA}"})

    def complaint(self, at: datetime) -> dict[str, Any]:
        """The recipient pressed "this is spam"."""
        return self._record("Complaint", {
            "complainedRecipients": [{"emailAddress": self.recipient}], "timestamp": ses_time(at),
            "feedbackId": f"{self.mail['messageId']}-complaint", "complaintFeedbackType": "abuse",
            "arrivalDate": ses_time(at)})

    def open(self, at: datetime, user_agent: str, ip: str) -> dict[str, Any]:
        return self._record("Open", {"timestamp": ses_time(at), "userAgent": user_agent, "ipAddress": ip})

    def click(self, at: datetime, link: str, user_agent: str, ip: str) -> dict[str, Any]:
        return self._record("Click", {"timestamp": ses_time(at), "link": link, "linkTags": {},
                                      "userAgent": user_agent, "ipAddress": ip})


def delivery_records(email: SentEmail, configuration_set: str, at: datetime) -> list[dict[str, Any]]:
    """What SES publishes for an email that reached the mailbox: Send, then Delivery."""
    mail = SesMail.of(email, configuration_set, at)
    return [mail.send(), mail.delivery(at)]


class EventPublisher:
    """Puts SES event records on EventBridge's default bus as SES does for the configuration set: source `aws.ses`,
    the record's detail-type, the record as the detail. Only the emulator accepts an `aws.` source from a caller
    (AWS keeps those for its services), which is what lets it stand in for SES here."""

    BATCH = 10  # PutEvents' most entries a call

    def __init__(self, configuration_set_arn: str, region: str):
        self._configuration_set_arn = configuration_set_arn
        self._region = region
        self._events: Any = None  # made on first use: inside the emulator the caller has set up

    def publish(self, *records: dict[str, Any]) -> None:
        if self._events is None:
            self._events = boto3.session.Session(region_name=self._region).client("events")
        entries = [{"Source": SES_EVENT_SOURCE, "DetailType": DETAIL_TYPES[record["eventType"]],
                    "Resources": [self._configuration_set_arn], "Detail": json.dumps(record)} for record in records]
        for start in range(0, len(entries), self.BATCH):
            answer = self._events.put_events(Entries=entries[start:start + self.BATCH])
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"the emulator refused SES events: {answer['Entries']}")
