"""The signing keyring's custom resource, run as CloudFormation runs it, against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.custom_resources import signing_keyring
from nurture.adapters.token_keys import keyring

NAME = "/Nurture/signing-keyring"


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """What the handler PUTs to CloudFormation's response URL, one dict per request."""
    sent: list[dict[str, Any]] = []

    class Answered:
        def __enter__(self) -> Answered:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    def urlopen(request: Any, timeout: float) -> Answered:
        assert request.get_method() == "PUT" and request.full_url == "https://cloudformation.example/response"
        sent.append(json.loads(request.data))
        return Answered()

    monkeypatch.setattr(signing_keyring.urllib.request, "urlopen", urlopen)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    with mock_aws():
        yield sent


def request(kind: str, import_from: str = "") -> dict[str, Any]:
    return {"RequestType": kind, "ResponseURL": "https://cloudformation.example/response",
            "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/Nurture/x", "RequestId": "r-1",
            "LogicalResourceId": "TrackingKeyKeyring", "ResourceType": "Custom::SigningKeyring",
            "ResourceProperties": {"ServiceToken": "arn", "Name": NAME, "ImportFrom": import_from}}


def stored() -> dict[str, Any]:
    parameter: dict[str, Any] = boto3.client("ssm").get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    return parameter


def test_create_makes_a_secure_string_holding_one_new_key(answers):
    signing_keyring.handler(request("Create"), None)
    assert [(a["Status"], a["PhysicalResourceId"]) for a in answers] == [("SUCCESS", NAME)]
    parameter = stored()
    assert parameter["Type"] == "SecureString" and parameter["Version"] == 1
    (key,) = keyring(parameter["Value"])
    assert key.key_id == "k0" and len(key.secret) == 32


def test_a_keyring_that_exists_is_never_replaced_and_update_and_delete_change_nothing(answers):
    boto3.client("ssm").put_parameter(Name=NAME, Value="rotated keyring", Type="SecureString")
    for kind in ("Create", "Update", "Delete"):
        signing_keyring.handler(request(kind), None)
    assert [a["Status"] for a in answers] == ["SUCCESS"] * 3
    assert (stored()["Value"], stored()["Version"]) == ("rotated keyring", 1)


def test_delete_leaves_the_parameter_links_in_sent_emails_keep_verifying(answers):
    signing_keyring.handler(request("Create"), None)
    before = stored()["Value"]
    signing_keyring.handler(request("Delete"), None)
    assert stored()["Value"] == before


def test_a_stack_from_before_imports_its_secrets_keyring_as_it_is(answers):
    generated = "a" * 40 + "B" * 24  # what the old stack's secret generated: 64 characters, no punctuation
    arn = boto3.client("secretsmanager").create_secret(Name="TrackingKeySecret", SecretString=generated)["ARN"]
    signing_keyring.handler(request("Create", import_from=arn), None)
    assert answers[-1]["Status"] == "SUCCESS"
    assert stored()["Value"] == generated and keyring(stored()["Value"]) == keyring(generated)


def test_a_failure_is_answered_with_its_reason_and_no_value(answers):
    signing_keyring.handler(request("Create", import_from="arn:aws:secretsmanager:ap-northeast-1:123456789012:"
                                                          "secret:gone-AbCdEf"), None)
    (answer,) = answers
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith("ResourceNotFoundException")
    with pytest.raises(boto3.client("ssm").exceptions.ParameterNotFound):
        stored()


def test_the_handler_fits_cloudformations_inline_code():
    from infra.constructs.tracking_key import HANDLER, INLINE_LIMIT

    assert len(HANDLER.read_text(encoding="utf-8")) <= INLINE_LIMIT
