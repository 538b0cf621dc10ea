"""SES v2: send a raw MIME message with the configuration set and the message tags SES events carry back."""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

from nurture.adapters.aws import client
from nurture.domain.errors import SendDeferred, SendRejected
from nurture.domain.pacing import SendPacer

# Refusals of this email to this address: recorded on the lead, never retried. Every other refusal
# (throttling, a paused or suspended account, a missing configuration set, denied permissions, an
# unverified sender) is about our setup, not the lead: the message returns to the queue and, if the
# problem stays, ends in the DLQ, where an operator sees it.
_PERMANENT = {"MessageRejected", "BadRequestException", "InvalidParameterValue"}
# One attempt: botocore's own retry of a timed-out SendEmail could send the email twice.
SEND_ONCE = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=15)


class SesMailer:
    def __init__(self, sender: str, configuration_set: str, sesv2: Any | None = None,
                 pacer: SendPacer | None = None):
        self.sender = sender
        self.configuration_set = configuration_set
        self._client = sesv2
        self._pacer = pacer or SendPacer(0)

    @property
    def _ses(self) -> Any:
        return self._client or client("sesv2", SEND_ONCE)

    def send(self, raw: bytes, recipient: str, tags: dict[str, str]) -> str:
        arguments: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [{"Name": name, "Value": value} for name, value in tags.items()],
        }
        if self.configuration_set:
            arguments["ConfigurationSetName"] = self.configuration_set
        self._pacer.wait()
        try:
            response = self._ses.send_email(**arguments)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            if code in _PERMANENT and status < 500:
                raise SendRejected(code) from error
            raise SendDeferred(f"SES: {code}", maybe_sent=status >= 500) from error
        except (ReadTimeoutError, ConnectionClosedError) as error:
            raise SendDeferred(f"SES did not answer: {type(error).__name__}", maybe_sent=True) from error
        except BotoCoreError as error:  # the request never reached SES (no connection, bad credentials)
            raise SendDeferred(f"SES unreachable: {type(error).__name__}") from error
        return str(response["MessageId"])
