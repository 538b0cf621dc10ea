"""What SES publishes through the configuration set after a send, for the local runtime: Send and Delivery.

The records have SES's event-publishing shape (with the sender's message tags), and go through the
same SNS topic and SQS queue as in AWS, to the real `ses_events` function.
"""

from __future__ import annotations

import json
from datetime import datetime
from email import message_from_bytes
from email.policy import default
from typing import Any

import boto3

from nurture.local.emulator import SentEmail

ACCOUNT = "123456789012"


def delivery_records(email: SentEmail, configuration_set: str, at: datetime) -> list[dict[str, Any]]:
    message = message_from_bytes(email.raw, policy=default)
    moment = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    recipient, sender = str(message["To"]), str(message["From"])
    mail = {
        "timestamp": moment, "source": sender, "sendingAccountId": ACCOUNT, "messageId": email.ses_message_id,
        "destination": [recipient], "headersTruncated": False,
        "commonHeaders": {"from": [sender], "to": [recipient], "subject": str(message["Subject"])},
        "tags": {"ses:configuration-set": [configuration_set], **{k: [v] for k, v in email.tags.items()}},
    }
    return [
        {"eventType": "Send", "mail": mail, "send": {}},
        {"eventType": "Delivery", "mail": mail, "delivery": {
            "timestamp": moment, "processingTimeMillis": 420, "recipients": [recipient],
            "smtpResponse": "250 2.0.0 OK", "reportingMTA": "a27-1.smtp-out.ap-northeast-1.amazonses.com"}},
    ]


def publish(records: list[dict[str, Any]], topic_arn: str, region: str) -> None:
    sns = boto3.session.Session(region_name=region).client("sns")
    for record in records:
        sns.publish(TopicArn=topic_arn, Message=json.dumps(record))
