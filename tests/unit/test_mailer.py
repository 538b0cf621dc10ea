"""SES v2 as the sender calls it: the configuration set and tags go along; errors become the domain's."""

import boto3
import pytest
from botocore.stub import Stubber

from nurture.adapters.mailer import SesMailer
from nurture.domain.sending import SendDeferred, SendRejected

TAGS = {"lead": "l1", "sequence": "warm_nurture", "step": "know_how", "message": "m1"}


def stubbed() -> tuple[SesMailer, Stubber]:
    client = boto3.client("sesv2", region_name="ap-northeast-1")
    return SesMailer("news@example.co.jp", "nurture-set", client), Stubber(client)


def test_the_email_carries_the_configuration_set_and_the_tags_ses_events_map_back_with():
    mailer, stub = stubbed()
    stub.add_response("send_email", {"MessageId": "ses-1"}, {
        "FromEmailAddress": "news@example.co.jp", "Destination": {"ToAddresses": ["a@example.jp"]},
        "Content": {"Raw": {"Data": b"raw"}}, "ConfigurationSetName": "nurture-set",
        "EmailTags": [{"Name": name, "Value": value} for name, value in TAGS.items()]})
    with stub:
        assert mailer.send(b"raw", "a@example.jp", TAGS) == "ses-1"


@pytest.mark.parametrize(("code", "status", "error"), [
    ("TooManyRequestsException", 429, SendDeferred),
    ("SendingPausedException", 400, SendDeferred),
    ("InternalFailure", 500, SendDeferred),
    ("MessageRejected", 400, SendRejected),
    ("MailFromDomainNotVerifiedException", 400, SendRejected),
    ("BadRequestException", 400, SendRejected),
])
def test_throttling_is_retried_later_and_a_refusal_is_permanent(code, status, error):
    mailer, stub = stubbed()
    stub.add_client_error("send_email", service_error_code=code, http_status_code=status)
    with stub, pytest.raises(error):
        mailer.send(b"raw", "a@example.jp", TAGS)
