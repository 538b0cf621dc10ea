"""`--stack NAME --region R`: the CLI reads a deployed stack's outputs to find its resources."""

import json
from pathlib import Path

import boto3
import pytest

from nurture.cli.console import PAGE_FOLDER
from nurture.cli.main import main
from nurture.cli.target import TargetNotFound, stack_target

pytestmark = pytest.mark.usefixtures("aws")

PAGE = Path(__file__).resolve().parents[2] / PAGE_FOLDER

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


def _stack_with_console(bucket: str) -> None:
    outputs = {**TEMPLATE["Outputs"], "ConsoleBucketName": {"Value": bucket},
               "ConsoleClientId": {"Value": "console-client-1"},
               "ConsoleUrl": {"Value": "https://d111111abcdef8.cloudfront.net/"}}
    boto3.client("cloudformation", region_name="ap-northeast-1").create_stack(
        StackName="Nurture", TemplateBody=json.dumps({**TEMPLATE, "Outputs": outputs}))


def test_console_publish_uploads_the_page_and_its_sign_in_settings_for_cloudfront_to_revalidate(capsys):
    s3 = boto3.client("s3", region_name="ap-northeast-1")
    s3.create_bucket(Bucket="nurture-console", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    _stack_with_console("nurture-console")
    assert main(["console", "publish", "--stack", "Nurture", "--region", "ap-northeast-1"]) == 0
    assert "https://d111111abcdef8.cloudfront.net/" in capsys.readouterr().out
    stored = {item["Key"] for item in s3.list_objects_v2(Bucket="nurture-console")["Contents"]}
    assert stored == {"index.html", "console.js", "console.css", "settings.json"}
    kinds = {key: s3.head_object(Bucket="nurture-console", Key=key) for key in stored}
    assert {key: head["ContentType"] for key, head in kinds.items()} == {
        "index.html": "text/html; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
        "console.css": "text/css; charset=utf-8", "settings.json": "application/json; charset=utf-8"}
    assert {head["CacheControl"] for head in kinds.values()} == {"no-cache"}
    settings = json.loads(s3.get_object(Bucket="nurture-console", Key="settings.json")["Body"].read())
    # Cognito's own endpoint in the stack's region, the stack's app client, the API on the page's origin
    assert settings == {"region": "ap-northeast-1", "clientId": "console-client-1",
                        "cognitoEndpoint": "https://cognito-idp.ap-northeast-1.amazonaws.com", "api": ""}
    page = s3.get_object(Bucket="nurture-console", Key="index.html")["Body"].read()
    assert page == (PAGE / "index.html").read_bytes()


def test_console_publish_to_a_stack_without_a_console_bucket_says_so(capsys):
    boto3.client("cloudformation", region_name="ap-northeast-1").create_stack(
        StackName="Nurture", TemplateBody=json.dumps(TEMPLATE))
    assert main(["console", "publish", "--stack", "Nurture", "--region", "ap-northeast-1"]) == 2
    assert "no console bucket" in capsys.readouterr().err
