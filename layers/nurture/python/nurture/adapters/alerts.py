"""The notifier's AWS side: alerts' delivery markers on the table, SES for the emails, and the webhooks' targets in
SSM Parameter Store with the HTTP post itself."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from nurture import keys
from nurture.adapters.aws import client
from nurture.adapters.dynamo import ConditionFailed, DynamoTable, to_item
from nurture.adapters.mailer import SesMailer
from nurture.domain.clock import expiry, iso, parse_iso, utc_now
from nurture.domain.errors import SendDeferred, SendRejected
from nurture.domain.sales.alerts import AlertEmail, AlertNotDelivered, AlertRefused
from nurture.domain.sales.webhooks import WebhookTarget, parameter_value, target_from_parameter

MARKER_DAYS = 30  # long past the last retry of an alert
TARGET_CACHE_SECONDS = 300  # a rotated webhook URL or secret is read within five minutes
POST_TIMEOUT_SECONDS = 5  # a receiver slower than this is retried later, never holding the batch


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx reaches the caller as an HTTPError


@cache
def _no_redirects() -> urllib.request.OpenerDirector:
    """Built on the first webhook post: its HTTPS handler loads the CA certificates (~20 ms of a cold start)."""
    return urllib.request.build_opener(_RefuseRedirects)


class DynamoAlertStore(DynamoTable):
    """`LEAD#<id>` `ALERT#<alert id>`: an alert sent or delivered, so a redelivered message does nothing."""

    def claim_alert(self, lead_id: str, alert_id: str, at: str) -> bool:
        try:
            self._call("put_item", TableName=self._table, Item=self._marker(lead_id, alert_id, at),
                       ConditionExpression="attribute_not_exists(PK) OR released = :yes",
                       ExpressionAttributeValues={":yes": {"BOOL": True}})
        except ConditionFailed:
            return False
        return True

    def lead_exists(self, lead_id: str) -> bool:
        return self._get(keys.lead_pk(lead_id), keys.PROFILE, projection="PK", consistent=False) is not None

    def lead_profile(self, lead_id: str) -> dict[str, Any] | None:
        """The lead as it stands (the CRM push's kintone record is made from it)."""
        return self._get(keys.lead_pk(lead_id), keys.PROFILE)

    def release_alert(self, lead_id: str, alert_id: str) -> None:
        """Overwritten as released rather than deleted: the notifier may delete nothing."""
        self._call("put_item", TableName=self._table,
                   Item={**self._marker(lead_id, alert_id, iso(utc_now())), "released": {"BOOL": True}})

    def alert_delivered(self, lead_id: str, alert_id: str) -> bool:
        marker = self._get(keys.lead_pk(lead_id), keys.alert_sk(alert_id), projection="PK, released")
        return marker is not None and not marker.get("released")

    def mark_alert_delivered(self, lead_id: str, alert_id: str, at: str) -> None:
        self._call("put_item", TableName=self._table, Item=self._marker(lead_id, alert_id, at))

    @staticmethod
    def _marker(lead_id: str, alert_id: str, at: str) -> dict[str, Any]:
        return to_item({**{"PK": keys.lead_pk(lead_id), "SK": keys.alert_sk(alert_id)}, "at": at,
                        "expires_at": expiry(parse_iso(at), MARKER_DAYS)})


class SesAlertMailer:
    """Alerts go to salespeople, not leads: no configuration set, so they count in no email's KPIs and no
    deliverability guard."""

    def __init__(self, sender: str, mailer: SesMailer | None = None):
        self.sender = sender
        self._mailer = mailer or SesMailer(sender, configuration_set="")

    def send_alert(self, recipient: str, email: AlertEmail, alert_id: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)  # RFC 5322 requires it; SES does not add one to raw mail
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(email.text)
        try:
            self._mailer.send(message.as_bytes(), recipient, {"nurture-alert": "handoff"})
        except SendDeferred as deferred:
            raise AlertNotDelivered(f"SES did not take the alert: {deferred}", deferred.maybe_sent) from deferred
        except SendRejected as rejected:
            raise AlertRefused(f"SES refused the alert: {rejected.code}") from rejected


class WebhookClient:
    """Each webhook's target in the SecureString `<prefix>/<webhook id>` (aws/ssm), and the post."""

    def __init__(self, parameter_prefix: str):
        self._prefix = parameter_prefix.rstrip("/")

    def parameter(self, webhook_id: str) -> str:
        return f"{self._prefix}/{webhook_id}"

    def store(self, webhook_id: str, target: WebhookTarget) -> None:
        """`nurture webhooks set`: written over the old one (its versions keep the history)."""
        value = parameter_value(target)
        if target_from_parameter(value) is None:
            raise ValueError("an https URL (or the local receiver's) and a signing secret of 16 characters or more")
        client("ssm").put_parameter(Name=self.parameter(webhook_id), Value=value, Type="SecureString",
                                    Overwrite=True, Tier="Standard")

    def missing(self, webhook_ids: Sequence[str]) -> list[str]:
        """The webhooks without a parameter, read without decrypting (ten names a call)."""
        found: set[str] = set()
        ids = list(webhook_ids)
        for start in range(0, len(ids), 10):
            names = [self.parameter(webhook_id) for webhook_id in ids[start:start + 10]]
            answer = client("ssm").get_parameters(Names=names, WithDecryption=False)
            found |= {parameter["Name"] for parameter in answer.get("Parameters", [])}
        return [webhook_id for webhook_id in ids if self.parameter(webhook_id) not in found]

    def target(self, webhook_id: str) -> WebhookTarget:
        try:
            value = parameters.get_parameter(self.parameter(webhook_id), decrypt=True,
                                             max_age=TARGET_CACHE_SECONDS)
        except GetParameterError as error:
            raise AlertNotDelivered(f"webhook '{webhook_id}' has no readable secret parameter") from error
        target = target_from_parameter(str(value))
        if target is None:
            raise AlertNotDelivered(f"webhook '{webhook_id}': its parameter is not an https URL and a secret")
        return target

    def post(self, url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> None:
        """A 3xx is a failure: urllib would follow it as a GET without the body, to wherever it points (http too)."""
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - https or the local receiver only
        try:
            with _no_redirects().open(request, timeout=POST_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise AlertNotDelivered(f"the webhook did not answer: {type(error).__name__}") from error
        if not 200 <= status < 300:
            raise AlertNotDelivered(f"the webhook answered {status}")
