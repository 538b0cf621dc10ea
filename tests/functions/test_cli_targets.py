"""`--stack NAME --region R`: the CLI reads a deployed stack's outputs to find its resources."""

import json

import boto3
import pytest

from nurture.cli.main import main
from nurture.cli.target import TargetNotFound, stack_target

pytestmark = pytest.mark.usefixtures("aws")

TEMPLATE = {
    "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {
        "ApiUrl": {"Value": "https://abc123.execute-api.ap-northeast-1.amazonaws.com/"},
        "TableName": {"Value": "Nurture-Table-ABC"},
        "SigningKeyParameter": {"Value": "/Nurture/signing-keyring"},
    },
}


def test_stack_outputs_become_the_functions_environment():
    boto3.client("cloudformation").create_stack(StackName="Nurture", TemplateBody=json.dumps(TEMPLATE))
    target = stack_target("Nurture", "ap-northeast-1", "/somewhere/config")
    assert target.api_url == "https://abc123.execute-api.ap-northeast-1.amazonaws.com/"
    assert target.environment["TABLE_NAME"] == "Nurture-Table-ABC"
    assert target.environment["SIGNING_KEY_PARAMETER"] == "/Nurture/signing-keyring"
    assert "AWS_ENDPOINT_URL" not in target.environment


def test_a_stack_that_is_not_nurture_is_refused():
    boto3.client("cloudformation").create_stack(
        StackName="Other", TemplateBody=json.dumps({"Resources": TEMPLATE["Resources"]}))
    with pytest.raises(TargetNotFound, match="lacks the outputs"):
        stack_target("Other", "ap-northeast-1", "/somewhere/config")


def test_a_missing_stack_is_reported_not_raised(capsys, tmp_path):
    event = tmp_path / "event.json"
    event.write_text("{}", encoding="utf-8")
    assert main(["invoke", "forms", str(event), "--stack", "Nowhere"]) == 2
    assert "Nowhere" in capsys.readouterr().err
