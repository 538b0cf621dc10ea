"""SES v2: send a raw MIME message with the configuration set and the message tags SES events carry back."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.aws import client
from nurture.domain.sending import SendDeferred, SendRejected

# Codes that mean "not now": the message returns to the queue. Everything else SES refuses is permanent.
_TRY_AGAIN = {"TooManyRequestsException", "LimitExceededException", "SendingPausedException", "Throttling",
              "ThrottlingException", "ServiceUnavailable", "InternalFailure", "AccountSuspendedException"}


class SesMailer:
    def __init__(self, sender: str, configuration_set: str, sesv2: Any | None = None):
        self.sender = sender
        self.configuration_set = configuration_set
        self._client = sesv2

    @property
    def _ses(self) -> Any:
        return self._client or client("sesv2")

    def send(self, raw: bytes, recipient: str, tags: dict[str, str]) -> str:
        arguments: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [{"Name": name, "Value": value} for name, value in tags.items()],
        }
        if self.configuration_set:
            arguments["ConfigurationSetName"] = self.configuration_set
        try:
            response = self._ses.send_email(**arguments)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            if code in _TRY_AGAIN or status >= 500:
                raise SendDeferred(f"SES: {code}") from error
            raise SendRejected(code) from error
        except BotoCoreError as error:
            raise SendDeferred(f"SES unreachable: {type(error).__name__}") from error
        return str(response["MessageId"])
