"""A reply arriving on the local runtime as it arrives in AWS: the raw message put in the reply bucket under SES's
naming, then the replies function invoked with SES receiving's Lambda-action event for it (`nurture reply
EML_FILE`, and the outbox's reply button)."""

from __future__ import annotations

import secrets
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any

import boto3

from nurture.domain.clock import utc_now
from nurture.local.functions import invoke
from nurture.local.resources import LocalResources
from nurture.topology import REPLY_OBJECT_PREFIX

# The headers SES's event lists of a message (it lists them all; these are what the function could use).
LISTED_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References")


def receive(raw: bytes, resources: LocalResources, at: datetime | None = None) -> dict[str, int]:
    """Store `raw` and hand its receipt to the replies function; what came of it, counted by outcome. Only the
    message's recipients at the reply domain are its envelope's, as SES accepts only those."""
    at = at or utc_now()
    ses_message_id = secrets.token_hex(20)
    s3 = boto3.session.Session(region_name=resources.region).client("s3")
    s3.put_object(Bucket=resources.reply_bucket, Key=REPLY_OBJECT_PREFIX + ses_message_id, Body=raw)
    outcomes: dict[str, int] = invoke("replies", receipt_event(raw, ses_message_id, at, resources))
    return outcomes


def reply_message(email: EmailMessage, text: str, at: datetime, subject: str | None = None,
                  headers: dict[str, str] | None = None) -> bytes:
    """What a mail client sends when the email's recipient answers it with `text`: to its Reply-To, in its
    thread, quoting its first lines under an attribution line as Gmail does."""
    reply = EmailMessage()
    reply["From"] = str(email["To"])
    reply["To"] = str(email["Reply-To"] or email["From"])
    reply["Subject"] = subject or f"Re: {email['Subject']}"
    reply["Date"] = format_datetime(at)
    reply["Message-ID"] = make_msgid(domain=str(email["To"]).rpartition("@")[2].strip(">") or "localhost")
    if email["Message-ID"]:
        reply["In-Reply-To"] = reply["References"] = str(email["Message-ID"])
    for name, value in (headers or {}).items():
        reply[name] = value
    plain = email.get_body(("plain",))
    quoted = "\n".join(f"> {line}" for line in (plain.get_content() if plain else "").splitlines()[:5])
    reply.set_content(f"{text}\n\nOn {at:%a, %b %d, %Y at %H:%M} {email['From']} wrote:\n{quoted}\n")
    return bytes(reply)


def receipt_event(raw: bytes, ses_message_id: str, at: datetime, resources: LocalResources) -> dict[str, Any]:
    """SES receiving's event for a Lambda action (events/replies-receipt.json is one as AWS documents it)."""
    message = message_from_bytes(raw, policy=policy.default)

    def values(name: str) -> list[str]:
        return [str(value) for value in message.get_all(name, [])]

    addresses = [address for _, address in getaddresses(values("To") + values("Cc"))]
    recipients = [address for address in addresses if address.lower().endswith("@" + resources.reply_domain)]
    timestamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    sender = str(message.get("Return-Path") or message.get("From") or "")
    headers = [{"name": name, "value": str(value)} for name, value in message.items() if name in LISTED_HEADERS]
    common = {"returnPath": getaddresses([sender])[0][1] if sender else "", "from": values("From"),
              "date": str(message.get("Date") or format_datetime(at)), "to": values("To"),
              "messageId": str(message.get("Message-ID", "")), "subject": str(message.get("Subject", ""))}
    passed = {"status": "PASS"}
    return {"Records": [{
        "eventSource": "aws:ses",
        "eventVersion": "1.0",
        "ses": {
            "mail": {"timestamp": timestamp, "source": common["returnPath"], "messageId": ses_message_id,
                     "destination": recipients, "headersTruncated": False, "headers": headers,
                     "commonHeaders": common},
            "receipt": {"timestamp": timestamp, "processingTimeMillis": 0, "recipients": recipients,
                        "spamVerdict": passed, "virusVerdict": passed, "spfVerdict": passed,
                        "dkimVerdict": passed, "dmarcVerdict": passed,  # the developer's own message
                        "action": {"type": "Lambda", "invocationType": "Event",
                                   "functionArn": f"arn:aws:lambda:{resources.region}:123456789012:function:"
                                                  "nurture-replies"}},
        },
    }]}
