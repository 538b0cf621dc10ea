"""Synthesize the CDK app (cdk-nag on) and check what it would deploy."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from infra import layer_bytecode
from infra.app import build_app
from infra.constructs.function import construct_name
from infra.stack import NurtureStack
from nurture.config import load_config
from nurture.config.compiled import COMPILED_FILE, FINGERPRINT_FILE, from_compiled, library_fingerprint
from nurture.config.loader import read_config_files
from nurture.config.versions import digest
from nurture.domain.console.page import cognito_endpoint, security_headers
from nurture.domain.errors import ConfigInvalid
from nurture.table import TABLE
from nurture.topology import ALERT_QUEUE_RECEIVES, FUNCTIONS, ROUTES, THROTTLES, ApiRoute
from tests.conftest import REPO

# What `cdk synth` gives the app from cdk.json: every synth here runs with the project's feature flags.
CDK_JSON_CONTEXT: dict[str, Any] = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]


def synthesized_app(layer: Path, **context: object) -> tuple[App, NurtureStack]:
    """The app as `cdk synth` builds it from cdk.json, with `context` (CDK context keys) over it."""
    return build_app({**CDK_JSON_CONTEXT, "nurture:dependenciesLayer": str(layer), **context})


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    layer = tmp_path_factory.mktemp("dependencies")
    (layer / "python").mkdir()
    app, stack = synthesized_app(layer)
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged finding
    return Template.from_stack(stack), Path(assembly.directory)


def recommended_feature_flags(scratch: Path) -> dict[str, Any]:
    """The flags the installed aws-cdk-lib recommends for a new project (what `cdk init` writes): read from its own
    cx-api module, run by Node as the CDK runs it."""
    (bundle,) = (Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as archive:
        archive.extractall(scratch, members=[m for m in archive.getmembers() if m.name.startswith("package/cx-api/")],
                           filter="data")
    features = scratch / "package" / "cx-api" / "lib" / "features.js"
    printed = subprocess.run(["node", "-e", f"process.stdout.write(JSON.stringify(require({str(features)!r})"
                              ".CURRENTLY_RECOMMENDED_FLAGS))"], capture_output=True, text=True, check=True).stdout
    flags: dict[str, Any] = json.loads(printed)
    return flags


def test_cdk_json_sets_every_feature_flag_the_installed_aws_cdk_lib_recommends(tmp_path):
    # Every synth in these tests reads cdk.json's context, so each flag is checked by them all.
    recommended = recommended_feature_flags(tmp_path)
    assert len(recommended) > 80
    assert {flag: CDK_JSON_CONTEXT.get(flag) for flag in recommended} == recommended


def test_table_matches_the_shared_definition(synthesized):
    template, _ = synthesized
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Retain",
        "Properties": {
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
            "GlobalSecondaryIndexes": [
                {"IndexName": index.name,
                 "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                               {"AttributeName": index.sort_key, "KeyType": "RANGE"}],
                 "Projection": index.projection}
                for index in TABLE.global_indexes
            ],
        },
    })


def test_every_route_is_on_the_http_api_with_its_function(synthesized):
    template, _ = synthesized
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == sorted(r.route_key for r in ROUTES)
    integrations = template.find_resources("AWS::ApiGatewayV2::Integration")
    assert {i["Properties"]["PayloadFormatVersion"] for i in integrations.values()} == {"2.0"}
    template.has_resource_properties("AWS::ApiGatewayV2::Stage", {
        "StageName": "$default", "AutoDeploy": True,
        "DefaultRouteSettings": {"ThrottlingBurstLimit": Match.any_value(), "ThrottlingRateLimit": Match.any_value()},
        "AccessLogSettings": {"DestinationArn": Match.any_value()},
    })


def _product_functions(template: Template) -> dict[str, dict]:
    """The functions of nurture.topology, without the signing keyring's custom resource (run once, at a deploy)."""
    return {name: function for name, function in template.find_resources("AWS::Lambda::Function").items()
            if not name.startswith("TrackingKey")}


def test_functions_are_python_313_on_arm64_with_their_own_roles(synthesized):
    template, _ = synthesized
    functions = _product_functions(template)
    assert len(functions) == len(FUNCTIONS)
    for function in functions.values():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["Handler"] == "handler.lambda_handler"
        # Tracing is opt-in, and Lambda's own START and REPORT lines are not ingested.
        assert "TracingConfig" not in properties  # Lambda's default, PassThrough: nothing recorded, no X-Ray grant
        assert properties["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
        levels = {key: properties["LoggingConfig"].get(key) for key in ("LogFormat", "SystemLogLevel",
                                                                        "ApplicationLogLevel")}
        assert levels == {"LogFormat": "JSON", "SystemLogLevel": "WARN", "ApplicationLogLevel": "INFO"}
        assert len(properties["Layers"]) == 3
        assert {"TABLE_NAME", "SIGNING_KEY_PARAMETER", "NURTURE_CONFIG_DIR"} <= set(
            properties["Environment"]["Variables"])
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}
    assert len(roles) == len(FUNCTIONS)


def _actions(template: Template, function: str) -> set[str]:
    policies = template.find_resources("AWS::IAM::Policy")
    prefix = "".join(part.title() for part in function.split("_"))
    (policy,) = [p for name, p in policies.items() if name.startswith(f"{prefix}FunctionRole")]
    actions: set[str] = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        found = statement["Action"]
        actions |= {found} if isinstance(found, str) else set(found)
    return actions


# Its logs and traces, and the active config version (ListBucket: a missing pointer is a 404, not a 403).
COMMON = {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:ListBucket"}  # no X-Ray: tracing is opt-in
# Reading the stream, and sending what keeps failing to the consumer's dead-letter queue.
STREAM = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
          "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
EXPECTED_ACTIONS = {
    # Every DynamoDB operation the adapters make for the function (see the call counts in docs/benchmarks.md).
    # Only the sales API (erasure) holds BatchWriteItem, which deletes as readily as it puts, on any item; the
    # dispatcher (removing unconfirmed leads) on leads' own items only (below).
    # The signing keyring: a download form's thank-you page links the post's own signed download link.
    "forms": COMMON | {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                       "dynamodb:Query", "ssm:GetParameter"},
    # DeleteItem: a seminar registration's page cancels it (on events' keys only, below).
    "tracking": COMMON | {"dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem",
                          "dynamodb:UpdateItem", "dynamodb:DeleteItem", "ssm:GetParameter"},
    # DeleteItem: a lead's place in the account it leaves; GetItem, Query: an account's pattern state and people;
    # ConditionCheckItem: the account it joins is not merged (on accounts' keys only, below).
    "scoring": COMMON | STREAM | {"dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem",
                                  "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query",
                                  "dynamodb:ConditionCheckItem"},  # + send queue
    "handoff": COMMON | STREAM | {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem",
                                  "dynamodb:BatchGetItem"},  # + alerts queue
    # BatchGetItem: a list page's profiles, which the keys-only rank and owner indexes point at.
    "sales_api": COMMON | {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem",
                           "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                           "dynamodb:BatchGetItem"},
    # The console reads: a lead's items, whether its address is suppressed, a list page's profiles. It writes a
    # campaign's state, lifts the guard's pause and erases a lead, each with its record (on those keys only, below),
    # and queues a campaign's test email for the sender.
    "console": COMMON | {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
                         "dynamodb:PutItem",
                         "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "sqs:SendMessage",
                         "s3:PutObject", "s3:DeleteObject"},  # an admin's rollback: the active pointer only
    "dispatcher": COMMON | {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem",
                            "dynamodb:DescribeTable", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                            "dynamodb:BatchGetItem", "sqs:SendMessage"},
    # DeleteItem: the waitlist place a promotion fills (on events' keys only, below); BatchGetItem: a campaign
    # segment's accounts (on accounts' keys only, below).
    "sender": COMMON | {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                        "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "ssm:GetParameter", "ses:SendEmail",
                        "dynamodb:BatchGetItem",
                        # the send queue, as its event source mapping reads it
                        "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes"},
    # Its part's progress, a Scan of the profiles' index, the page's accounts (BatchGetItem, on accounts' keys only),
    # and handing a part on in a new message; plus its queue.
    "audience": COMMON | {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:BatchGetItem",
                          "sqs:SendMessage",
                          "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                          "sqs:GetQueueAttributes"},
    # Its alert markers (on leads' keys only), the webhooks' parameters, SES without the configuration set, and its
    # queue (ChangeMessageVisibility also sets a failed alert's backoff).
    "notifier": COMMON | {"dynamodb:GetItem", "dynamodb:PutItem", "ssm:GetParameter", "ses:SendEmail",
                          "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                          "sqs:GetQueueAttributes"},
    # The email a reply answers and its activity (on condition its lead exists), an opt-out's choice; the stored
    # replies (s3:GetObject, in COMMON); the signing keyring; the dead-letter queue its failed invocations go to
    # (Lambda's on-failure destination sends as the function's role, with what CDK grants a sender).
    "replies": COMMON | {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                         "dynamodb:ConditionCheckItem", "ssm:GetParameter", "sqs:SendMessage",
                         "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
    "ses_events": COMMON | {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                            "dynamodb:ConditionCheckItem",
                            "sqs:ReceiveMessage",
                            "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                            "sqs:GetQueueAttributes"},
}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_role_has_exactly_the_actions_its_function_uses(synthesized, function):
    template, _ = synthesized
    assert _actions(template, function) == EXPECTED_ACTIONS[function]


def test_the_dispatcher_deletes_only_leads_own_items_and_campaign_workers_write_only_campaign_items(synthesized):
    # (and the notifier writes only under leads: its alert markers; the replies function under leads and addresses)
    template, _ = synthesized
    # One line per action: the synth merges statements of one condition (@aws-cdk/aws-iam:minimizePolicies).
    def by_action(found: Iterable[tuple[str, str, Any]]) -> list[tuple[str, str, str]]:
        return sorted((role, action, json.dumps(condition)) for role, actions, condition in found
                      for action in _listed(json.loads(actions)))

    conditioned = by_action((name.split("FunctionRole")[0], json.dumps(statement["Action"]), statement.get("Condition"))
                            for name, policy in template.find_resources("AWS::IAM::Policy").items()
                            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
                            if "dynamodb:LeadingKeys" in json.dumps(statement.get("Condition", {})))
    leading = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CAMPAIGN#*", "JOB#*"]}}
    removal = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LEAD#*", "VISITOR#*", "EMAIL#*"]}}
    markers = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LEAD#*"]}}
    # a reply, mail from anyone, reaches its lead's items, an address's claim and its suppression entry only
    replies = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LEAD#*", "EMAIL#*",
                                                                   "SUPPRESS#*"]}}
    seminar_places = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["EVENT#*"]}}
    # the console changes campaigns and the guard's pause, each with its record; never a lead
    console_campaigns = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CAMPAIGN#*", "AUDIT#*", "JOB#*"]}}
    console_resume = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DELIVERABILITY"]}}
    # and an admin's erasure: each action on the keys the sales API's erasure uses it on, the record beside it; the
    # suppression entry is only ever updated
    def keys_only(*prefixes: str) -> dict[str, Any]:
        return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(prefixes)}}

    # the audience worker reads accounts' standing
    assert conditioned == by_action([("Audience", '"dynamodb:BatchGetItem"', keys_only("ACCOUNT#*")),
                           ("Audience", '["dynamodb:UpdateItem", "dynamodb:GetItem"]', leading),
                           # the sweep: a batch's keys are checked together
                           ("Console", '"dynamodb:BatchWriteItem"', keys_only("LEAD#*", "VISITOR#*", "ACCOUNT#*")),
                           ("Console", '"dynamodb:DeleteItem"', console_resume),
                           ("Console", '"dynamodb:DeleteItem"', keys_only("LEAD#*", "EMAIL#*", "EVENT#*", "ACCOUNT#*")),
                           ("Console", '"dynamodb:PutItem"', console_campaigns),
                           ("Console", '"dynamodb:PutItem"', keys_only("LEAD#*", "VISITOR#*", "AUDIT#*")),
                           ("Console", '"dynamodb:UpdateItem"', keys_only("LEAD#*")),  # a lead given to another
                           ("Console", '"dynamodb:UpdateItem"', keys_only("SUPPRESS#*", "OWNER#*", "EVENT#*",
                                                                         "ACCOUNT#*")),
                           ("Dispatcher", '"dynamodb:BatchWriteItem"', keys_only("LEAD#*", "VISITOR#*", "ACCOUNT#*")),
                           ("Dispatcher", '"dynamodb:PutItem"', leading),
                           ("Dispatcher", '["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]', removal),
                           ("Notifier", '["dynamodb:GetItem", "dynamodb:PutItem"]', markers),
                           ("Replies", '["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", '
                                       '"dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]', replies),
                           # a lead's place in the account it leaves; the account's pattern state and people;
                           # that the account a lead joins was not merged meanwhile
                           ("Scoring", '["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", '
                                       '"dynamodb:ConditionCheckItem"]', keys_only("ACCOUNT#*")),
                           ("Sender", '"dynamodb:BatchGetItem"', keys_only("ACCOUNT#*")),  # accounts' standing
                           ("Sender", '"dynamodb:DeleteItem"', seminar_places),
                           ("Tracking", '"dynamodb:DeleteItem"', seminar_places)])


def test_functions_only_read_the_config_bucket_but_the_console_publishes_versions_and_it_ships_version_1(synthesized):
    template, _ = synthesized
    bucket_id = template.find_outputs("*")["ConfigBucketName"]["Value"]["Ref"]
    bucket = template.find_resources("AWS::S3::Bucket")[bucket_id]
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    grants = [(statement["Action"], json.dumps(statement["Resource"]))
              for policy in template.find_resources("AWS::IAM::Policy").values()
              for statement in policy["Properties"]["PolicyDocument"]["Statement"]
              if '"s3:' in json.dumps(statement["Action"]) and bucket_id in json.dumps(statement["Resource"])]
    reads = [(action, resource) for action, resource in grants if action in ("s3:GetObject", "s3:ListBucket")]
    assert len(reads) == 2 * len(FUNCTIONS)
    # An admin's push or rollback from the console: the active pointer, written or deleted, and new versions
    # written (only where no object has the key: the adapter's If-None-Match); no other function writes.
    versions, pointer = sorted(((action, resource) for action, resource in grants if (action, resource) not in reads),
                               key=lambda grant: json.dumps(grant[0]))
    assert sorted(pointer[0]) == ["s3:DeleteObject", "s3:PutObject"] and pointer[1].endswith('"/active.json"]]}')
    assert versions[0] == "s3:PutObject" and versions[1].endswith('"/versions/*"]]}')
    outputs = template.find_outputs("*")
    assert outputs["ConfigBucketName"]["Value"] == {"Ref": bucket_id}
    assert "s3://" in json.dumps(outputs["DeployedConfigUrl"]["Value"])
    environments = [resource["Properties"]["Environment"]["Variables"]
                    for resource in template.find_resources("AWS::Lambda::Function").values()
                    if "Environment" in resource["Properties"]]
    assert all(variables.get("CONFIG_BUCKET") == {"Ref": bucket_id} for variables in environments)
    alarms = " ".join(json.dumps(alarm) for alarm in template.find_resources("AWS::CloudWatch::Alarm").values())
    assert "ConfigProblem" in alarms  # a version that does not validate, or a store that cannot be read


def test_only_the_sales_api_and_the_console_read_the_rank_and_owner_indexes_and_the_dispatcher_the_due_one(
        synthesized):
    template, _ = synthesized
    policies = template.find_resources("AWS::IAM::Policy")
    index_grants: dict[str, set[str]] = {}
    for name, policy in policies.items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                if isinstance(resource, dict) and "/index/" in str(resource.get("Fn::Join", [None, [""]])[1][-1]):
                    index_grants.setdefault(name.split("FunctionRole")[0], set()).add(resource["Fn::Join"][1][-1])
    assert index_grants == {"SalesApi": {"/index/by_rank", "/index/by_owner"},
                            "Console": {"/index/by_rank", "/index/by_owner"}, "Dispatcher": {"/index/due"}}


def test_the_dispatcher_ticks_every_minute(synthesized):
    template, _ = synthesized
    template.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "rate(1 minute)", "State": "ENABLED",
        "Target": {"Arn": Match.any_value(), "RetryPolicy": {"MaximumRetryAttempts": 0}},
    })


def test_the_sender_sends_only_from_the_configured_address_with_the_configuration_set(synthesized):
    template, _ = synthesized
    (configuration_set,) = template.find_resources("AWS::SES::ConfigurationSet").values()
    assert configuration_set["Properties"]["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    policies = template.find_resources("AWS::IAM::Policy")
    (statement,) = [st for name, p in policies.items() if name.startswith("SenderFunctionRole")
                    for st in p["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "ses:SendEmail"]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": "news@example.com"}}
    resources = json.dumps(statement["Resource"])
    assert ":identity/example.com" in resources and ":configuration-set/" in resources


def test_the_sender_drains_the_send_queue_in_batches_within_its_reserved_concurrency(synthesized):
    template, _ = synthesized
    functions = template.find_resources("AWS::Lambda::Function")
    (sender,) = [f for name, f in functions.items() if name.startswith("SenderFunction")]
    assert sender["Properties"]["ReservedConcurrentExecutions"] == 2
    assert sender["Properties"]["Environment"]["Variables"]["SES_SEND_RATE"] == "7"  # 14 emails/s over two
    assert set(sender["Properties"]["Environment"]["Variables"]) >= {"SENDER_ADDRESS", "SES_CONFIGURATION_SET"}
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 2}, "EventSourceArn": Match.any_value()})
    template.has_resource_properties("AWS::SQS::Queue", {
        "VisibilityTimeout": 180, "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 5}})


def _keyring(template: Template) -> tuple[dict, dict, str]:
    """The keyring's custom resource, its function's properties, and the parameter's ARN as granted."""
    (resource,) = template.find_resources("Custom::SigningKeyring").values()
    (function,) = [f["Properties"] for name, f in template.find_resources("AWS::Lambda::Function").items()
                   if name.startswith("TrackingKey")]
    return resource, function, json.dumps(resource["Properties"]["Name"])


def test_the_signing_keyring_is_a_secure_string_parameter_made_once_and_kept(synthesized):
    template, _ = synthesized
    resource, function, _ = _keyring(template)
    assert resource["Properties"]["Name"] == "/Nurture/signing-keyring" and resource["Properties"]["ImportFrom"] == ""
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    assert resource["Properties"]["ServiceToken"]["Fn::GetAtt"][1] == "Arn"
    # Its code is inline and does what the docs say: SecureString, never over an existing keyring, standard tier.
    code = function["Code"]["ZipFile"]
    for needed in ('Type="SecureString"', "Overwrite=False", 'Tier="Standard"', 'event["RequestType"] == "Create"'):
        assert needed in code
    assert (function["Runtime"], function["Architectures"], function["Handler"]) == (
        "python3.13", ["arm64"], "index.handler")
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    template.resource_count_is("AWS::SSM::Parameter", 0)  # CloudFormation cannot make a SecureString one
    outputs = template.find_outputs("SigningKeyParameter")
    assert outputs["SigningKeyParameter"]["Value"] == "/Nurture/signing-keyring"


def _parameter_arn_statements(template: Template, role_prefix: str) -> list[dict]:
    policies = [p["Properties"] for name, p in template.find_resources("AWS::IAM::Policy").items()
                if name.startswith(role_prefix)]
    return [st for policy in policies for st in policy["PolicyDocument"]["Statement"]
            if "signing-keyring" in json.dumps(st["Resource"])]


def test_only_the_keyrings_function_may_create_it_and_only_tracking_and_the_sender_read_it(synthesized):
    template, _ = synthesized
    (create,) = _parameter_arn_statements(template, "TrackingKeyRole")
    assert create["Action"] == "ssm:PutParameter" and create["Effect"] == "Allow"
    assert json.dumps(create["Resource"]).endswith(':parameter/Nurture/signing-keyring"]]}')
    # Nothing else: its own logs and that one parameter (aws/ssm needs no KMS grant: its key policy lets the
    # account's principals use it through SSM).
    actions = {a for st in _statements_of(template, "TrackingKeyRole") for a in _listed(st["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "ssm:PutParameter"}
    for name in ("tracking", "sender"):
        (read,) = _parameter_arn_statements(template, f"{construct_name(name)}FunctionRole")
        assert read["Action"] == "ssm:GetParameter" and read["Resource"] == create["Resource"]
    # Each reader starts only once the parameter is there.
    (keyring_id,) = template.find_resources("Custom::SigningKeyring")
    readers = [f for name, f in template.find_resources("AWS::Lambda::Function").items()
               if name.startswith(("TrackingFunction", "SenderFunction"))]
    assert len(readers) == 2 and all(keyring_id in f.get("DependsOn", []) for f in readers)


def _statements_of(template: Template, role_prefix: str) -> list[dict]:
    return [st for name, p in template.find_resources("AWS::IAM::Policy").items() if name.startswith(role_prefix)
            for st in p["Properties"]["PolicyDocument"]["Statement"]]


def _listed(action: str | list[str]) -> list[str]:
    return [action] if isinstance(action, str) else action


def test_a_stack_from_before_imports_its_secrets_keyring_and_may_read_that_secret_only(optioned):
    template, _ = optioned
    arn = OPTIONS["signingKeyImportFrom"]
    resource, _, _ = _keyring(template)
    assert resource["Properties"]["ImportFrom"] == arn
    reads = [st for st in _statements_of(template, "TrackingKeyRole") if "secretsmanager:GetSecretValue" in
             _listed(st["Action"])]
    assert [st["Resource"] for st in reads] == [arn]
    assert not [name for name in FUNCTIONS if "secretsmanager:GetSecretValue" in _actions(template, name)]


def test_an_import_from_anything_but_a_secrets_arn_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nurture:signingKeyImportFrom"):
        _synthesized_with(tmp_path, signingKeyImportFrom="/Nurture/some-parameter")


def _asset(directory: Path, code: dict) -> Path:
    return directory / f"asset.{code['S3Key'].removesuffix('.zip')}"


def test_lambda_packages_hold_only_what_they_should(synthesized):
    template, directory = synthesized
    layers = template.find_resources("AWS::Lambda::LayerVersion")
    assets = {layer["Properties"]["Description"]: _asset(directory, layer["Properties"]["Content"])
              for layer in layers.values()}
    (config,) = [path for description, path in assets.items() if description.startswith("Marketer")]
    assert sorted(p.name for p in config.iterdir()) == ["config"]
    assert {"api.yaml", "forms.yaml"} <= {p.name for p in (config / "config").iterdir()}
    # What functions load: the files as synth validated them, without YAML or validation at a cold start.
    compiled = from_compiled((config / "config" / COMPILED_FILE).read_text(encoding="utf-8"),
                             digest(read_config_files(config / "config")))
    assert compiled is not None and compiled == load_config(config / "config")
    (library,) = [path for description, path in assets.items() if description.startswith("The nurture package")]
    package = library / "python" / "nurture"
    assert (package / "domain" / "capture.py").exists()
    assert not (package / "cli").exists() and not (package / "local").exists()
    # Compiled by Lambda's Python where the machine has one: /opt is read-only, so source is compiled per cold start.
    compiled = {path.name.split(".")[0] for path in package.rglob("*.cpython-313.pyc")}
    modules = {path.stem for path in package.rglob("*.py")}
    assert compiled == (modules if layer_bytecode.lambda_python() else set())
    assert not list(package.rglob("*.cpython-311.pyc"))  # nothing this machine's Python left behind
    assert (package / FINGERPRINT_FILE).read_text(encoding="ascii") == library_fingerprint()  # what compiled.json names
    for function in _product_functions(template).values():
        code = _asset(directory, function["Properties"]["Code"])
        assert sorted(p.name for p in code.iterdir() if p.name != "__pycache__") == ["__init__.py", "handler.py"]


def test_outputs_give_the_cli_and_sales_what_they_need(synthesized):
    template, _ = synthesized
    assert {"ApiUrl", "SalesApiUrl", "TableName", "SigningKeyParameter", "HandoffQueueUrl", "SalesConsumerPolicyArn",
            "SalesErasurePolicyArn", "PurchasesPolicyArn", "ConsoleUrl", "ConsoleBucketName", "ConsoleUserPoolId",
            "ConsoleClientId"} <= set(template.find_outputs("*"))


CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed policies
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_the_console_page_is_read_from_a_private_bucket_by_its_distribution_only(synthesized):
    template, _ = synthesized
    distribution_id, config = _distributions(template)["console"]
    assert config["DefaultRootObject"] == "index.html"
    (origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    (access_control_id, access_control), = template.find_resources("AWS::CloudFront::OriginAccessControl").items()
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [access_control_id, "Id"]}
    assert access_control["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    bucket_id = template.find_outputs("ConsoleBucketName")["ConsoleBucketName"]["Value"]["Ref"]
    bucket = template.find_resources("AWS::S3::Bucket")[bucket_id]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (policy,) = [p["Properties"]["PolicyDocument"]["Statement"] for p in template.find_resources(
        "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    (read,) = [statement for statement in policy if statement["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert distribution_id in json.dumps(read["Condition"])  # this distribution, no other
    behavior = config["DefaultCacheBehavior"]
    assert (behavior["ViewerProtocolPolicy"], behavior["CachePolicyId"]) == ("redirect-to-https", CACHING_OPTIMIZED)
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD"}
    assert template.find_outputs("ConsoleUrl")["ConsoleUrl"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]}


def test_the_console_api_is_on_the_pages_origin_uncached_with_the_token_passed_on(synthesized):
    template, _ = synthesized
    _, config = _distributions(template)["console"]
    (behavior,) = config["CacheBehaviors"]
    assert behavior["PathPattern"] == "/v1/console/*"
    assert all(route.path.startswith("/v1/console/") for route in ROUTES if route.function == "console")
    assert (behavior["CachePolicyId"], behavior["OriginRequestPolicyId"]) == (
        CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER)
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    (origin,) = [o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    assert ".execute-api." in json.dumps(origin["DomainName"])
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behavior["ResponseHeadersPolicyId"] == config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    # CloudFront keeps error answers ten seconds unless told: one user's 403 must not answer another's request
    assert {response["ErrorCode"] for response in config["CustomErrorResponses"]} >= {403, 404, 500}
    assert {response["ErrorCachingMinTTL"] for response in config["CustomErrorResponses"]} == {0}


def test_every_console_answer_carries_the_pages_security_headers_and_the_waf_acl_when_there_is_one(behind_waf):
    nurture, _ = behind_waf
    _, config = _distributions(nurture)["console"]
    assert "Fn::GetStackOutput" in config["WebACLId"]
    (policy_id, policy), = nurture.find_resources("AWS::CloudFront::ResponseHeadersPolicy").items()
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    expected = security_headers(cognito_endpoint("ap-northeast-1"))  # what the local gateway sends too
    assert headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] == expected["Content-Security-Policy"]
    assert "connect-src 'self' https://cognito-idp.ap-northeast-1.amazonaws.com;" in expected[
        "Content-Security-Policy"]
    hsts = headers["StrictTransportSecurity"]
    assert f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains" == expected["Strict-Transport-Security"]
    assert hsts["IncludeSubdomains"] is True
    assert headers["FrameOptions"]["FrameOption"] == expected["X-Frame-Options"]
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == expected["Referrer-Policy"]
    assert "ContentTypeOptions" in headers
    assert all(header["Override"] for header in headers.values())


def test_stream_consumers_use_the_shared_filters_with_bisect_retries_and_a_dlq(synthesized):
    template, _ = synthesized
    mappings = {name: m for name, m in template.find_resources("AWS::Lambda::EventSourceMapping").items()
                if "StartingPosition" in m["Properties"]}  # streams have one; queues have none
    assert len(mappings) == len(TABLE.stream_filters)
    patterns = []
    for mapping in mappings.values():
        properties = mapping["Properties"]
        assert properties["BisectBatchOnFunctionError"] is True
        assert properties["MaximumRetryAttempts"] == 5
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert "OnFailure" in properties["DestinationConfig"]
        patterns += [json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"]]
    assert sorted(patterns, key=json.dumps) == sorted((pattern for f in TABLE.stream_filters for pattern in f.patterns),
                                                      key=json.dumps)


def test_handoff_queue_is_fifo_encrypted_with_a_dead_letter_queue(synthesized):
    template, _ = synthesized
    template.has_resource_properties("AWS::SQS::Queue", {
        "FifoQueue": True, "ContentBasedDeduplication": False, "SqsManagedSseEnabled": True,
        "RedrivePolicy": {"maxReceiveCount": 5, "deadLetterTargetArn": Match.any_value()},
    })
    queues = template.find_resources("AWS::SQS::Queue")
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values())
    assert len([q for q in queues.values() if q["Properties"].get("FifoQueue")]) == 2


def test_sales_routes_need_iam_and_the_consoles_a_cognito_token(synthesized):
    template, _ = synthesized
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    auth = {r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationType", "NONE") for r in routes.values()}
    assert auth == {route.route_key: "AWS_IAM" if route.iam else "JWT" if route.signed_in else "NONE"
                    for route in ROUTES}
    # The page and its API share an origin: no preflights, so no console route without a token
    assert all(route.signed_in for route in ROUTES if route.path.startswith("/v1/console/"))


def test_the_console_authorizer_checks_the_user_pools_id_tokens_for_the_consoles_client(synthesized):
    template, _ = synthesized
    (authorizer,) = template.find_resources("AWS::ApiGatewayV2::Authorizer").values()
    pool = next(iter(template.find_resources("AWS::Cognito::UserPool")))
    client = next(iter(template.find_resources("AWS::Cognito::UserPoolClient")))
    settings = authorizer["Properties"]
    assert settings["AuthorizerType"] == "JWT"
    assert settings["IdentitySource"] == ["$request.header.Authorization"]
    assert settings["JwtConfiguration"]["Audience"] == [{"Ref": client}]
    assert pool in json.dumps(settings["JwtConfiguration"]["Issuer"])


def test_the_console_user_pool_is_invite_only_with_a_strong_password_and_one_group_per_role(synthesized):
    template, _ = synthesized
    (pool,) = template.find_resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert pool["DeletionPolicy"] == "Retain"  # the people who use the console outlive a redeploy
    groups = {g["Properties"]["GroupName"] for g in template.find_resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "marketer", "sales"}
    (client,) = template.find_resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is False  # a browser holds no secret
    assert client["Properties"]["PreventUserExistenceErrors"] == "ENABLED"


def _granted(template: Template, output: str) -> dict[str, set[str]]:
    """Each action of the managed policy an output names -> its resources, API routes as their stage paths."""
    policy_id = template.find_outputs(output)[output]["Value"]["Ref"]
    policy = template.find_resources("AWS::IAM::ManagedPolicy")[policy_id]
    granted: dict[str, set[str]] = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        paths = {resource["Fn::Join"][1][-1] if "Fn::Join" in resource else json.dumps(resource)
                 for resource in resources}
        for action in actions:
            granted.setdefault(action, set()).update(paths)
    return granted


def test_sales_consumer_policy_consumes_the_queue_reads_leads_sends_feedback_owners_calls_and_activity_not_erase(
        synthesized):
    template, _ = synthesized
    (queue,) = [name for name in template.find_resources("AWS::SQS::Queue") if name.startswith("HandoffQueue")]
    queue_arn = json.dumps({"Fn::GetAtt": [queue, "Arn"]})
    assert _granted(template, "SalesConsumerPolicyArn") == {
        **{action: {queue_arn} for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                              "sqs:GetQueueAttributes", "sqs:GetQueueUrl")},
        "execute-api:Invoke": {"/$default/GET/v1/leads", "/$default/GET/v1/leads/*", "/$default/GET/v1/accounts/*",
                               "/$default/GET/v1/accounts", "/$default/POST/v1/accounts/*/merge",
                               "/$default/POST/v1/accounts/*/split",
                               "/$default/POST/v1/leads/*/feedback", "/$default/POST/v1/leads/*/owner",
                               "/$default/POST/v1/leads/*/subscriptions", "/$default/POST/v1/leads/*/activities",
                               "/$default/GET/v1/tasks",
                               "/$default/POST/v1/tasks/*/outcome"},
    }


def test_the_erasure_and_purchases_policies_grant_their_one_route_each(synthesized):
    template, _ = synthesized
    assert _granted(template, "SalesErasurePolicyArn") == {"execute-api:Invoke": {"/$default/DELETE/v1/leads/*"}}
    assert _granted(template, "PurchasesPolicyArn") == {"execute-api:Invoke": {"/$default/POST/v1/purchases"}}


def _synthesized_with(tmp_path: Path, **context: object) -> tuple[Template, Path]:
    (tmp_path / "python").mkdir(exist_ok=True)
    app, stack = synthesized_app(tmp_path, **{f"nurture:{key}": value for key, value in context.items()})
    return Template.from_stack(stack), Path(app.synth().directory)


# The operator's optional settings the tests below check, each its own, in one synth (a synth takes 15-20 s).
OPTIONS: dict[str, object] = {
    "signingKeyImportFrom": ("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:"
                             "TrackingKeySecretA8C497E3-AbCdEf"),
    "senderConcurrency": "4", "sesSendRate": "20", "logRetentionDays": "30",
    "allowedOrigins": "https://www.example.co.jp, https://lp.example.co.jp", "eventRetentionDays": 365,
    "replyDomain": "reply.example.co.jp", "dashboard": True, "alarmEmail": "ops@example.co.jp", "tracing": True}


@pytest.fixture(scope="module")
def optioned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    """The stack with every setting of OPTIONS, synthesized with cdk-nag (which accepts each, acknowledged)."""
    return _synthesized_with(tmp_path_factory.mktemp("optioned"), **OPTIONS)


def test_a_sender_concurrency_below_the_event_sources_minimum_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="nurture:senderConcurrency: Input should be greater than or equal to 2"):
        _synthesized_with(tmp_path, senderConcurrency=1)


def test_a_log_retention_cloudwatch_does_not_offer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nurture:logRetentionDays"):
        _synthesized_with(tmp_path, logRetentionDays=100)


def test_deployment_settings_from_the_context_reach_the_functions_logs_and_config(optioned):
    # Given a deployment with its own rate, retention and site (OPTIONS)
    template, directory = optioned
    # Then each of four senders paces itself to a quarter of SES's rate
    (sender,) = [f for name, f in template.find_resources("AWS::Lambda::Function").items()
                 if name.startswith("SenderFunction")]
    assert sender["Properties"]["Environment"]["Variables"]["SES_SEND_RATE"] == "5"
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "BatchSize": 10, "ScalingConfig": {"MaximumConcurrency": 4}, "EventSourceArn": Match.any_value()})
    # And every log group keeps 30 days
    groups = template.find_resources("AWS::Logs::LogGroup").values()
    assert {group["Properties"]["RetentionInDays"] for group in groups} == {30}
    # And the deployed config answers CORS for the site and keeps activity a year
    layers = template.find_resources("AWS::Lambda::LayerVersion").values()
    (config,) = [_asset(directory, layer["Properties"]["Content"]) for layer in layers
                 if layer["Properties"]["Description"].startswith("Marketer")]
    deployed = load_config(config / "config")
    assert deployed.api.cors.allow_origins == ["https://www.example.co.jp", "https://lp.example.co.jp"]
    assert deployed.api.event_retention_days == 365
    assert deployed.forms == load_config(Path(__file__).parents[2] / "config").forms


def test_a_slow_ses_rate_shrinks_the_senders_batch_to_what_fits_its_timeout(tmp_path):
    template, _ = _synthesized_with(tmp_path, sesSendRate=0.2)  # SES sandbox-like: 0.1 emails/s per sender
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "BatchSize": 2, "ScalingConfig": {"MaximumConcurrency": 2}, "EventSourceArn": Match.any_value()})


def test_a_rate_too_slow_for_one_email_per_batch_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lower the concurrency"):
        _synthesized_with(tmp_path, sesSendRate=0.05)


def test_an_allowed_origin_that_is_not_an_origin_stops_the_synth_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"nurture:allowedOrigins: .*is not an origin"):
        _synthesized_with(tmp_path, allowedOrigins="https://www.example.co.jp/contact")


def test_a_misspelt_setting_is_refused_rather_than_ignored(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown deployment settings .*nurture:allowedOrigin;"):
        _synthesized_with(tmp_path, allowedOrigin="https://www.example.co.jp")


def test_the_deployed_config_is_validated_like_config_check(tmp_path):
    with pytest.raises(ConfigInvalid, match="event_retention_days"):
        _synthesized_with(tmp_path, eventRetentionDays=99999)


def _one(template: Template, kind: str, prefix: str = "") -> tuple[str, dict]:
    (found,) = [(name, r) for name, r in template.find_resources(kind).items() if name.startswith(prefix)]
    return found


def test_every_ses_event_reaches_the_ses_events_function_through_the_default_bus_and_sqs(synthesized):
    template, _ = synthesized
    (destination,) = template.find_resources("AWS::SES::ConfigurationSetEventDestination").values()
    settings = destination["Properties"]["EventDestination"]
    assert settings["Enabled"] is True and set(settings) == {"Enabled", "EventBridgeDestination", "MatchingEventTypes"}
    bus = json.dumps(settings["EventBridgeDestination"]["EventBusArn"])
    assert bus.endswith('":event-bus/default"]]}')  # SES publishes to the account's default bus only
    assert set(settings["MatchingEventTypes"]) == {"send", "delivery", "bounce", "complaint", "reject", "open",
                                                   "click", "renderingFailure", "deliveryDelay", "subscription"}
    (configuration_set,) = template.find_resources("AWS::SES::ConfigurationSet")
    rule_name, rule = _one(template, "AWS::Events::Rule", "SesEvents")
    assert destination["DependsOn"] == [rule_name]  # SES switches to the bus once the rule is there
    properties = rule["Properties"]
    assert properties["EventBusName"] == "default" and properties["State"] == "ENABLED"
    # AWS's events only, and only those SES tags with this stack's configuration set.
    assert properties["EventPattern"] == {"source": ["aws.ses"], "detail": {"mail": {"tags": {
        "ses:configuration-set": [{"Ref": configuration_set}]}}}}
    queue, _ = _one(template, "AWS::SQS::Queue", "SesEventsQueue")
    dead_letters, _ = _one(template, "AWS::SQS::Queue", "DeadLettersQueue")
    (target,) = properties["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}  # the shared one
    mapping = [m["Properties"] for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
               if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}]
    assert [m["FunctionName"]["Ref"].startswith("SesEventsFunction") for m in mapping] == [True]


@pytest.mark.parametrize("queue_prefix", ["SesEventsQueue", "DeadLettersQueue"])
def test_only_the_ses_events_rule_may_send_to_its_queue_and_the_dead_letter_queue(synthesized, queue_prefix):
    template, _ = synthesized
    rule, _ = _one(template, "AWS::Events::Rule", "SesEvents")
    queue, _ = _one(template, "AWS::SQS::Queue", queue_prefix)
    (policy,) = [p["Properties"]["PolicyDocument"] for p in template.find_resources("AWS::SQS::QueuePolicy").values()
                 if p["Properties"]["Queues"] == [{"Ref": queue}]]
    allowed = [st for st in policy["Statement"] if st["Effect"] == "Allow"]
    assert allowed and all(st["Principal"] == {"Service": "events.amazonaws.com"}
                           and st["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule, "Arn"]}}}
                           and "sqs:SendMessage" in st["Action"] for st in allowed)
    assert any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for st in policy["Statement"])


def test_replies_are_received_only_where_a_reply_domain_is_set_stored_privately_for_days_and_read_by_one_function(
        synthesized, optioned):
    template, _ = synthesized  # no reply domain: no receiving, and emails carry no Reply-To
    assert template.find_resources("AWS::SES::ReceiptRuleSet") == {}
    assert not any("REPLY_DOMAIN" in json.dumps(function["Properties"].get("Environment", {}))
                   for function in template.find_resources("AWS::Lambda::Function").values())

    template, _ = optioned  # replyDomain: reply.example.co.jp
    bucket_id, bucket = _one(template, "AWS::S3::Bucket", "Replies")
    assert bucket["Properties"]["LifecycleConfiguration"] == {"Rules": [{"ExpirationInDays": 3, "Status": "Enabled"}]}
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values())
    (policy,) = [p["Properties"]["PolicyDocument"] for p in template.find_resources("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    (ses_put,) = [st for st in policy["Statement"] if st["Effect"] == "Allow"]
    assert ses_put["Principal"] == {"Service": "ses.amazonaws.com"} and ses_put["Action"] == "s3:PutObject"
    assert ses_put["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "/replies/*" in json.dumps(ses_put["Resource"])
    _, rule = _one(template, "AWS::SES::ReceiptRule")
    function_id, function = _one(template, "AWS::Lambda::Function", "RepliesFunction")
    assert rule["Properties"]["Rule"]["Recipients"] == ["reply.example.co.jp"]
    assert rule["Properties"]["Rule"]["ScanEnabled"] is True
    assert rule["Properties"]["Rule"]["Actions"] == [
        {"S3Action": {"BucketName": {"Ref": bucket_id}, "ObjectKeyPrefix": "replies/"}},
        {"LambdaAction": {"FunctionArn": {"Fn::GetAtt": [function_id, "Arn"]}, "InvocationType": "Event"}}]
    # Only SES of this account invokes it; what keeps failing goes to the shared dead-letter queue
    template.has_resource_properties("AWS::Lambda::Permission", {
        "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]}, "Principal": "ses.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"}})
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {
        "FunctionName": {"Ref": function_id}, "MaximumRetryAttempts": 2,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("DeadLetters"),
                                                                            "Arn"]}}}})
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["REPLY_DOMAIN"] == "reply.example.co.jp" and variables["REPLY_BUCKET"] == {"Ref": bucket_id}
    (sender,) = [f for name, f in template.find_resources("AWS::Lambda::Function").items()
                 if name.startswith("SenderFunction")]
    assert sender["Properties"]["Environment"]["Variables"]["REPLY_DOMAIN"] == "reply.example.co.jp"
    reads = [st for st in _statements(template) if "s3:GetObject" in json.dumps(st["Action"])
             and bucket_id in json.dumps(st["Resource"])]
    assert len(reads) == 1 and "/replies/*" in json.dumps(reads[0]["Resource"])  # the replies function's alone


def test_materials_are_private_shipped_as_file_assets_and_read_only_by_the_tracking_function(synthesized):
    template, assembly = synthesized
    bucket_id = template.find_outputs("*")["MaterialsBucketName"]["Value"]["Ref"]
    bucket = template.find_resources("AWS::S3::Bucket")[bucket_id]
    assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values())
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "Retain"
    (policy,) = [p["Properties"]["PolicyDocument"] for p in template.find_resources("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    assert [st["Effect"] for st in policy["Statement"]] == ["Deny"]  # TLS only; no one is let in by the bucket
    grants = {st["Action"]: st for st in _statements(template) if bucket_id in json.dumps(st["Resource"])}
    assert sorted(grants) == ["s3:GetObject", "s3:ListBucket"]  # a file not there: HEAD answers 404, not 403
    read = grants["s3:GetObject"]
    assert "/materials/*" in json.dumps(read["Resource"])
    # the bucket itself, beside the config bucket in the one statement the minimized policy makes of both
    listed = grants["s3:ListBucket"]["Resource"]
    assert {"Fn::GetAtt": [bucket_id, "Arn"]} in (listed if isinstance(listed, list) else [listed])
    _, tracking = _one(template, "AWS::Lambda::Function", "TrackingFunction")
    variables = tracking["Properties"]["Environment"]["Variables"]
    assert variables["MATERIALS_BUCKET"] == {"Ref": bucket_id}
    # The deployed folder's whitepaper ships as a file asset the tracking function alone may read, by its key.
    shipped = json.dumps(variables["SHIPPED_MATERIALS"])
    assert "whitepaper-lead-nurturing-101.pdf" in shipped
    files = [entry for manifest in assembly.glob("*.assets.json")
             for entry in json.loads(manifest.read_text())["files"].values()]
    (key,) = [destination["objectKey"] for entry in files if entry["source"]["path"].endswith(".pdf")
              for destination in entry["destinations"].values()]
    assert key in json.dumps(read["Resource"]) and key in shipped
    assert [name for name, function in template.find_resources("AWS::Lambda::Function").items()
            if "MATERIALS_BUCKET" in json.dumps(function["Properties"].get("Environment", {}))] == [
        name for name in template.find_resources("AWS::Lambda::Function") if name.startswith("TrackingFunction")]


def test_a_reply_domain_that_is_not_a_domain_stops_the_synth(tmp_path):
    with pytest.raises(ValueError, match="nurture:replyDomain"):
        _synthesized_with(tmp_path, replyDomain="r+@example.co.jp")


def test_ses_events_need_no_topic_and_the_stack_no_key_of_its_own(synthesized):
    template, _ = synthesized
    # The alarms' topic is the stack's only one: SES events go through EventBridge. No customer-managed key: $1 a
    # month each and $1 more for each of its first two rotations (decision 75).
    (topic,) = template.find_resources("AWS::SNS::Topic")
    assert topic.startswith("MonitoringAlarms")
    template.resource_count_is("AWS::KMS::Key", 0)
    (policy,) = [p["Properties"]["PolicyDocument"] for p in template.find_resources("AWS::SNS::TopicPolicy").values()
                 if p["Properties"]["Topics"] == [{"Ref": topic}]]
    allowed = [st for st in policy["Statement"] if st["Effect"] == "Allow"]
    assert [st["Principal"] for st in allowed] == [{"Service": "cloudwatch.amazonaws.com"}]
    assert allowed[0]["Action"] == "sns:Publish" and "aws:SourceAccount" in allowed[0]["Condition"]["StringEquals"]
    assert any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for st in policy["Statement"])
    template.resource_count_is("AWS::SNS::Subscription", 0)
    queue, _ = _one(template, "AWS::SQS::Queue", "SesEventsQueue")
    assert template.to_json()["Resources"][queue]["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("metric", ["SendingPaused", "SendingAtRisk"])
def test_an_alarm_fires_when_the_guard_pauses_sending_or_warns_before_it_does(synthesized, metric):
    template, _ = synthesized
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": metric, "Namespace": "Nurture", "Threshold": 1,
        "Dimensions": [{"Name": "service", "Value": "nurture-ses_events"}],
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"})


# CDK writes DependsOn on a function's role even though Role's GetAtt already orders them: harmless.
CFN_LINT_IGNORED = ["W3005", "I"]


def _cfn_lint(template: str, region: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    findings = lint(template, config=ManualArgs(regions=[region], ignore_checks=CFN_LINT_IGNORED))
    return [f"{f.rule.id} {f.message}" for f in findings]


def test_cfn_lint_finds_no_error_or_warning_in_the_template(synthesized):
    _, assembly = synthesized
    assert _cfn_lint(next(assembly.glob("*.template.json")).read_text(encoding="utf-8"), "ap-northeast-1") == []


def _alarms(template: Template) -> dict[str, dict]:
    return {name: alarm["Properties"] for name, alarm in template.find_resources("AWS::CloudWatch::Alarm").items()}


def _topic_ref(template: Template) -> dict:
    (topic,) = [name for name in template.find_resources("AWS::SNS::Topic") if name.startswith("MonitoringAlarms")]
    return {"Ref": topic}


def test_every_dead_letter_queue_has_an_alarm_that_reaches_the_alarm_topic(synthesized):
    template, _ = synthesized
    queues = template.find_resources("AWS::SQS::Queue")
    dead_letter_queues = {name for name, queue in queues.items() if "RedrivePolicy" not in queue["Properties"]
                          and "DeadLetters" in name}
    watched = {dimension["Value"]["Fn::GetAtt"][0] for alarm in _alarms(template).values()
               if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
               for dimension in alarm["Dimensions"]}
    assert dead_letter_queues and watched == dead_letter_queues
    assert all(_topic_ref(template) in alarm["AlarmActions"] for alarm in _alarms(template).values())


def _alarm_metrics(alarm: dict) -> int:
    """What CloudWatch bills an alarm for: each metric it watches (a math expression's inputs, one by one)."""
    return 1 if "MetricName" in alarm else sum(1 for metric in alarm["Metrics"] if "MetricStat" in metric)


def test_ten_alarm_metrics_watch_the_api_the_streams_the_queues_the_guard_and_the_config(synthesized):
    template, _ = synthesized
    alarms = _alarms(template)
    assert sum(_alarm_metrics(alarm) for alarm in alarms.values()) <= 10
    (server_errors,) = [a for a in alarms.values() if a.get("MetricName") == "5xx"]
    assert server_errors["Namespace"] == "AWS/ApiGateway" and server_errors["EvaluationPeriods"] == 2
    behind = {dimension["Value"]["Ref"] for a in alarms.values() if a.get("MetricName") == "IteratorAge"
              for dimension in a["Dimensions"]}
    streams = {name for name, spec in FUNCTIONS.items() if spec.trigger == "stream"}
    assert len(behind) == len(streams) == 2
    assert {a.get("MetricName") for a in alarms.values()} >= {"ApproximateAgeOfOldestMessage", "SendingPaused",
                                                              "ConfigProblem"}
    (config,) = [a for a in alarms.values() if a.get("MetricName") == "ConfigProblem"]
    assert config["Dimensions"] == [{"Name": "service", "Value": "nurture"}]  # every function's, as one metric


def _emitted_metrics() -> set[str]:
    """The names the code publishes as metrics (add_metric, or count_shared for the shared dimension)."""
    source = "\n".join(path.read_text(encoding="utf-8") for root in ("layers/nurture/python/nurture", "functions")
                       for path in (Path(__file__).parents[2] / root).rglob("*.py"))
    return set(re.findall(r'(?:add_metric\(name=|count_shared\()"([A-Za-z]+)"', source))


def test_the_code_publishes_at_most_six_metrics_each_one_an_alarm_or_the_dashboard_reads():
    from infra.constructs.monitoring import BUSINESS_GRAPHS
    from nurture.observability import METRIC_NAMES

    emitted = _emitted_metrics()
    assert emitted == set(METRIC_NAMES) and len(METRIC_NAMES) <= 6
    shown = {metric for _, metrics in BUSINESS_GRAPHS for _, metric in metrics}
    assert shown <= emitted
    assert {function for _, metrics in BUSINESS_GRAPHS for function, _ in metrics} <= set(FUNCTIONS)


def test_the_dashboard_is_the_operators_choice(synthesized, optioned):
    template, _ = synthesized
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    assert "DashboardUrl" not in template.to_json().get("Outputs", {})
    chosen, _ = optioned
    chosen.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    assert "DashboardUrl" in chosen.to_json()["Outputs"]


def test_an_alarm_email_from_the_context_is_subscribed_to_the_alarm_topic(optioned):
    template, _ = optioned
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.co.jp"})


def _statements(template: Template) -> list[dict]:
    documents = [policy["Properties"]["PolicyDocument"] for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                 for policy in template.find_resources(kind).values()]
    return [statement for document in documents for statement in document["Statement"]]


def test_no_policy_grants_a_wildcard_action(synthesized):
    template, _ = synthesized
    actions = [action for statement in _statements(template)
               for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])]
    assert actions and [action for action in actions if "*" in action] == []


@pytest.mark.parametrize(("action", "only"), [
    ("ses:SendEmail", {"sender", "notifier"}),  # the forms function (or anything else) cannot send email
    # Only the sales API erases, and the dispatcher removes unconfirmed leads (on leads' own keys, checked above);
    # tracking and the sender delete seminar places only (on events' keys, checked above), never a lead's item;
    # the console the guard's pause and, for an admin, a lead's own items; the scorer a lead's place in the account
    # it leaves (all checked above).
    ("dynamodb:DeleteItem", {"sales_api", "dispatcher", "tracking", "sender", "console", "scoring"}),
    # The signing keyring; the webhooks' secrets.
    ("ssm:GetParameter", {"forms", "tracking", "sender", "replies", "notifier"}),
])
def test_only_the_function_whose_job_it_is_may_do_it(synthesized, action, only):
    template, _ = synthesized
    assert {function for function in FUNCTIONS if action in _actions(template, function)} == only


def test_the_notifier_sends_alerts_without_the_configuration_set_and_reads_only_this_stacks_webhooks(synthesized):
    template, _ = synthesized
    (notifier_policy,) = [policy for name, policy in template.find_resources("AWS::IAM::Policy").items()
                          if name.startswith("NotifierFunctionRole")]
    statements = {json.dumps(s["Action"]): s for s in notifier_policy["Properties"]["PolicyDocument"]["Statement"]}
    send = statements['"ses:SendEmail"']
    assert "configuration-set" not in json.dumps(send["Resource"]) and "ses:FromAddress" in json.dumps(send)
    read = json.dumps(statements['"ssm:GetParameter"']["Resource"])
    assert read.endswith(':parameter/nurture/Nurture/webhooks/*"]]}')
    path = template.find_outputs("WebhookParameterPath")["WebhookParameterPath"]["Value"]
    assert path == "/nurture/Nurture/webhooks"
    (mapping,) = [m for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
                  if "Notifier" in json.dumps(m["Properties"]["FunctionName"])]
    assert mapping["Properties"]["BatchSize"] == 1  # one alert at a time: a slow webhook holds up no other
    (queue,) = [q for name, q in template.find_resources("AWS::SQS::Queue").items() if name.startswith("AlertsQueue")]
    assert json.loads(json.dumps(queue["Properties"]["RedrivePolicy"]))["maxReceiveCount"] == ALERT_QUEUE_RECEIVES


def test_api_access_logs_are_one_json_object_per_request_in_the_infrequent_access_class(synthesized):
    template, _ = synthesized
    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    fields = json.loads(stage["Properties"]["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "status", "ip"} <= set(fields)
    destination = stage["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert template.to_json()["Resources"][destination]["Properties"]["LogGroupClass"] == "INFREQUENT_ACCESS"


def test_tracing_is_the_operators_choice(optioned):
    template, _ = optioned  # tracing on: cdk-nag accepts it, acknowledged
    for function in _product_functions(template).values():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
        assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"
    assert all({"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= _actions(template, name) for name in FUNCTIONS)


def test_the_access_log_is_the_operators_choice(tmp_path):
    template, _ = _synthesized_with(tmp_path, accessLog="off")  # cdk-nag accepts it, acknowledged
    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    assert "AccessLogSettings" not in stage["Properties"]


def test_the_guards_alarms_reach_the_alarm_topic_but_never_claim_ok(synthesized):
    # The pause is published once and lasts until `nurture sending resume`, the warning at each check while it
    # holds: either metric going quiet is no "OK".
    template, _ = synthesized
    guard = {"SendingPaused", "SendingAtRisk"}
    found = [a for a in _alarms(template).values() if a.get("MetricName") in guard]
    assert len(found) == 2
    assert all(a["AlarmActions"] == [_topic_ref(template)] and "OKActions" not in a for a in found)
    others = [a for a in _alarms(template).values() if a.get("MetricName") not in guard]
    assert all(a["OKActions"] == [_topic_ref(template)] for a in others)


def _stage(template: Template) -> dict:
    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    return stage


def test_every_route_has_its_throttle_class_and_the_stage_waits_for_the_routes(synthesized):
    template, _ = synthesized
    stage = _stage(template)
    assert stage["Properties"]["RouteSettings"] == {
        route.route_key: {"ThrottlingRateLimit": THROTTLES[route.throttle].rate,
                          "ThrottlingBurstLimit": THROTTLES[route.throttle].burst}
        for route in ROUTES}
    # CloudFormation must not see a route's setting before the route exists.
    assert set(template.find_resources("AWS::ApiGatewayV2::Route")) <= set(stage["DependsOn"])


def test_no_throttle_class_goes_above_the_stage_default(synthesized):
    template, _ = synthesized
    ceiling = _stage(template)["Properties"]["DefaultRouteSettings"]
    assert all(throttle.rate <= ceiling["ThrottlingRateLimit"] and throttle.burst <= ceiling["ThrottlingBurstLimit"]
               for throttle in THROTTLES.values())


def test_a_route_names_a_throttle_class_that_exists():
    with pytest.raises(ValueError, match=re.escape("GET /v1/t/c/{token}: throttle 'mail' is none of")):
        ApiRoute("GET", "/v1/t/c/{token}", "tracking", "mail")


def _functions(template: Template) -> dict[str, dict]:
    """Each function's properties by its name in nurture.topology."""
    found = template.find_resources("AWS::Lambda::Function")
    return {name: function["Properties"] for name in FUNCTIONS for logical_id, function in found.items()
            if logical_id.startswith(f"{construct_name(name)}Function")}


def test_each_function_reserves_the_concurrency_topology_gives_it(synthesized):
    template, _ = synthesized
    reserved = {name: properties.get("ReservedConcurrentExecutions")
                for name, properties in _functions(template).items()}
    assert reserved == {**{name: spec.reserved_concurrency for name, spec in FUNCTIONS.items()}, "sender": 2}
    # The SES events queue never invokes beyond the function's reservation (throttled messages head for the DLQ).
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "BatchSize": 10, "MaximumBatchingWindowInSeconds": 5,
        "ScalingConfig": {"MaximumConcurrency": FUNCTIONS["ses_events"].reserved_concurrency}})


def _distributions(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    """The stack's distributions by what they serve (the last word of their comment: API, console)."""
    return {resource["Properties"]["DistributionConfig"]["Comment"].split()[-1]: (
        logical_id, resource["Properties"]["DistributionConfig"])
        for logical_id, resource in template.find_resources("AWS::CloudFront::Distribution").items()}


def test_without_waf_there_is_no_edge_and_the_api_is_served_from_its_own_endpoint(synthesized):
    template, _ = synthesized
    template.resource_count_is("AWS::WAFv2::WebACL", 0)
    assert set(_distributions(template)) == {"console"}
    api_url = template.find_outputs("ApiUrl")["ApiUrl"]["Value"]
    assert ".execute-api." in json.dumps(api_url)
    for properties in _functions(template).values():
        assert "CLIENT_IP_HEADER" not in properties["Environment"]["Variables"]
        assert properties["Environment"]["Variables"].get("PUBLIC_API_URL", api_url) == api_url


WAF_RATE_LIMIT = 1000


@pytest.fixture(scope="module")
def behind_waf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Template]:
    """Nurture in Tokyo behind WAF, reservations off; its web ACL's stack in us-east-1. Strings, as `-c` gives."""
    layer = tmp_path_factory.mktemp("dependencies")
    (layer / "python").mkdir()
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
        environment.setenv("CDK_DEFAULT_REGION", "ap-northeast-1")
        app, stack = synthesized_app(layer, **{"nurture:waf": "true", "nurture:wafRateLimit": str(WAF_RATE_LIMIT),
                                               "nurture:reservedConcurrency": "false"})
        app.synth()  # raises if cdk-nag reports an unacknowledged finding in either stack
    (acl_stack,) = [child for child in app.node.children if isinstance(child, Stack) and child is not stack]
    assert (stack.region, acl_stack.region) == ("ap-northeast-1", "us-east-1")
    return Template.from_stack(stack), Template.from_stack(acl_stack)


def test_waf_blocks_an_address_over_the_rate_limit_with_a_cloudfront_web_acl(behind_waf):
    _, acl_stack = behind_waf
    (acl,) = acl_stack.find_resources("AWS::WAFv2::WebACL").values()
    assert acl["Properties"]["Scope"] == "CLOUDFRONT" and acl["Properties"]["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Properties"]["Rules"]
    statement = rule["Statement"]["RateBasedStatement"]
    assert (statement["AggregateKeyType"], statement["Limit"], statement["EvaluationWindowSec"]) == (
        "IP", WAF_RATE_LIMIT, 300)
    assert "Block" in rule["Action"]
    # Email opens, clicks and one-click unsubscribes (mailbox providers' servers, many people behind one
    # address) are left to their routes' own throttles.
    exempt = statement["ScopeDownStatement"]["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    assert sorted(s["ByteMatchStatement"]["SearchString"] for s in exempt) == ["/v1/t/", "/v1/unsubscribe/"]
    assert {s["ByteMatchStatement"]["PositionalConstraint"] for s in exempt} == {"STARTS_WITH"}


def test_waf_puts_the_api_behind_a_distribution_with_the_acl_and_serves_its_urls_from_there(behind_waf):
    nurture, acl_stack = behind_waf
    distribution_id, config = _distributions(nurture)["API"]
    # The ACL's ARN, read across regions from the output its stack publishes
    acl_output = config["WebACLId"]["Fn::GetStackOutput"]
    assert acl_output["Region"] == "us-east-1"
    (acl_id,) = acl_stack.find_resources("AWS::WAFv2::WebACL")
    assert acl_stack.find_outputs(acl_output["OutputName"])[acl_output["OutputName"]]["Value"] == {
        "Fn::GetAtt": [acl_id, "Arn"]}
    # Nothing cached (CloudFront's managed CachingDisabled policy), every method, errors never kept
    behavior = config["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert {response["ErrorCachingMinTTL"] for response in config["CustomErrorResponses"]} == {0}
    assert ".execute-api.ap-northeast-1." in json.dumps(config["Origins"])
    # What the functions read, the viewer's address, the query; never Host
    (policy,) = nurture.find_resources("AWS::CloudFront::OriginRequestPolicy").values()
    forwarded = policy["Properties"]["OriginRequestPolicyConfig"]
    assert set(forwarded["HeadersConfig"]["Headers"]) == {
        "Content-Type", "Accept", "Origin", "Idempotency-Key", "User-Agent", "Referer", "CloudFront-Viewer-Address"}
    assert forwarded["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    # Forms post to it and emails link to it; handoffs link to the signed sales routes on the API's own endpoint
    public_url = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]}
    assert nurture.find_outputs("ApiUrl")["ApiUrl"]["Value"] == public_url
    functions = _functions(nurture)
    assert functions["sender"]["Environment"]["Variables"]["PUBLIC_API_URL"] == public_url
    assert functions["handoff"]["Environment"]["Variables"]["PUBLIC_API_URL"] == nurture.find_outputs(
        "SalesApiUrl")["SalesApiUrl"]["Value"]
    # The API's functions take the client's address from CloudFront's header
    assert {name for name, properties in functions.items()
            if properties["Environment"]["Variables"].get("CLIENT_IP_HEADER") == "CloudFront-Viewer-Address"} == {
        route.function for route in ROUTES}


def test_with_reservations_off_only_the_sender_reserves_concurrency(behind_waf):
    nurture, _ = behind_waf
    assert {name: properties.get("ReservedConcurrentExecutions")
            for name, properties in _functions(nurture).items() if "ReservedConcurrentExecutions" in properties} == {
        "sender": 2}


def test_cfn_lint_finds_no_error_or_warning_in_either_waf_template(behind_waf):
    nurture, acl_stack = behind_waf
    assert _cfn_lint(json.dumps(nurture.to_json()), "ap-northeast-1") == []
    assert _cfn_lint(json.dumps(acl_stack.to_json()), "us-east-1") == []


def test_waf_without_a_target_account_and_region_is_refused_by_name(tmp_path, monkeypatch):
    for name in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="nurture:waf needs the target account and region"):
        _synthesized_with(tmp_path, waf="true")



BRANDED = "t.example.co.jp"
DOMAIN_RESOURCES = ("AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping",
                    "AWS::CertificateManager::Certificate", "AWS::Route53::RecordSet")


def _variables(template: Template, prefix: str) -> dict[str, Any]:
    _, function = _one(template, "AWS::Lambda::Function", prefix)
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


def test_without_a_branded_domain_the_api_answers_at_its_own_endpoint_only(synthesized):
    template, _ = synthesized
    assert [kind for kind in DOMAIN_RESOURCES if template.find_resources(kind)] == []
    assert "execute-api" in json.dumps(template.find_outputs("ApiUrl"))


def test_a_branded_domain_carries_every_link_with_a_certificate_validated_in_its_zone_and_an_alias_record(tmp_path):
    template, _ = _synthesized_with(tmp_path, apiDomain=BRANDED, apiHostedZoneId="Z0123456789ABCDEFGHIJ",
                                    apiHostedZoneName="example.co.jp")
    certificate_id, certificate = _one(template, "AWS::CertificateManager::Certificate")
    assert certificate["Properties"]["DomainName"] == BRANDED
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    assert certificate["Properties"]["DomainValidationOptions"] == [
        {"DomainName": BRANDED, "HostedZoneId": "Z0123456789ABCDEFGHIJ"}]
    domain_id, domain = _one(template, "AWS::ApiGatewayV2::DomainName")
    assert domain["Properties"]["DomainName"] == BRANDED
    assert domain["Properties"]["DomainNameConfigurations"] == [
        {"CertificateArn": {"Ref": certificate_id}, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}]
    _, mapping = _one(template, "AWS::ApiGatewayV2::ApiMapping")
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    assert mapping["Properties"]["ApiId"] == {"Ref": _one(template, "AWS::ApiGatewayV2::Api")[0]}
    # the stage by its name, made first (a mapping to a stage not there yet fails the deploy)
    assert mapping["Properties"]["Stage"] == "$default"
    assert _one(template, "AWS::ApiGatewayV2::Stage")[0] in mapping.get("DependsOn", [])
    record_id, record = _one(template, "AWS::Route53::RecordSet")
    assert record_id.startswith("ApiDomainAlias")  # the same record behind WAF: turning it on moves it in place
    assert (record["Properties"]["Name"], record["Properties"]["Type"]) == (f"{BRANDED}.", "A")
    assert record["Properties"]["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    assert record["Properties"]["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    # the links every email carries, the snippet's endpoint (ApiUrl), sales tooling's, reminders' and alerts'
    url = f"https://{BRANDED}/"
    outputs = template.find_outputs("*")
    assert (outputs["ApiUrl"]["Value"], outputs["SalesApiUrl"]["Value"]) == (url, url)
    assert _variables(template, "SenderFunction")["PUBLIC_API_URL"] == url
    assert _variables(template, "HandoffFunction")["PUBLIC_API_URL"] == url
    assert _variables(template, "DispatcherFunction")["SALES_API_URL"] == url
    assert _variables(template, "RepliesFunction")["SALES_API_URL"] == url
    assert "execute-api" not in json.dumps([function["Properties"]["Environment"]
                                            for function in _product_functions(template).values()])


def test_a_branded_domain_with_its_own_certificate_and_no_zone_makes_neither(tmp_path):
    arn = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-123456789abc"
    template, _ = _synthesized_with(tmp_path, apiDomain=BRANDED, apiCertificateArn=arn)
    assert not template.find_resources("AWS::CertificateManager::Certificate")
    assert not template.find_resources("AWS::Route53::RecordSet")  # the operator's DNS points the name (deploy.md)
    _, domain = _one(template, "AWS::ApiGatewayV2::DomainName")
    assert domain["Properties"]["DomainNameConfigurations"][0]["CertificateArn"] == arn


@pytest.mark.parametrize(("context", "refusal"), [
    ({"apiDomain": BRANDED, "waf": True,
      "apiCertificateArn": "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-123456789abc"},
     "behind nurture:waf the domain is CloudFront's, which takes a certificate in us-east-1 only"),
    ({"apiDomain": BRANDED, "apiHostedZoneId": "Z0123456789ABCDEFGHIJ"}, "go together"),
    ({"apiDomain": BRANDED, "apiHostedZoneId": "Z0123456789ABCDEFGHIJ", "apiHostedZoneName": "example.com"},
     "is not in the zone example.com"),
    ({"apiCertificateArn": "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b"}, "need nurture:apiDomain"),
    ({"apiDomain": "https://t.example.co.jp/"}, "nurture:apiDomain"),
])
def test_a_branded_domain_without_what_it_needs_is_refused_at_synth(tmp_path, context, refusal):
    with pytest.raises(ValueError, match=re.escape(refusal)):
        _synthesized_with(tmp_path, **context)


def test_the_stack_and_its_resources_say_which_deployment_they_belong_to(synthesized):
    template, assembly = synthesized
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    (stack,) = [artifact for artifact in manifest["artifacts"].values()
                if artifact["type"] == "aws:cloudformation:stack"]
    assert stack["properties"]["tags"] == {"nurture:environment": "dev"}  # CloudFormation tags what it makes
    _, table = _one(template, "AWS::DynamoDB::Table")
    assert {"Key": "nurture:environment", "Value": "dev"} in table["Properties"]["Tags"]


def test_behind_waf_the_branded_domain_is_the_distribution_s_with_a_us_east_1_certificate(tmp_path):
    (tmp_path / "python").mkdir()
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
        environment.setenv("CDK_DEFAULT_REGION", "ap-northeast-1")
        app, stack = synthesized_app(tmp_path, **{"nurture:waf": "true", "nurture:apiDomain": BRANDED,
                                                  "nurture:apiHostedZoneId": "Z0123456789ABCDEFGHIJ",
                                                  "nurture:apiHostedZoneName": "example.co.jp"})
        app.synth()  # cdk-nag on both stacks
    (acl_stack,) = [child for child in app.node.children if isinstance(child, Stack) and child is not stack]
    template, edge = Template.from_stack(stack), Template.from_stack(acl_stack)
    # the certificate where CloudFront reads it, validated in the zone
    _, certificate = _one(edge, "AWS::CertificateManager::Certificate")
    assert certificate["Properties"]["DomainName"] == BRANDED
    assert certificate["Properties"]["DomainValidationOptions"] == [
        {"DomainName": BRANDED, "HostedZoneId": "Z0123456789ABCDEFGHIJ"}]
    assert not template.find_resources("AWS::CertificateManager::Certificate")
    # the distribution answers to the domain, with TLS 1.2 (2021), and the name points at it
    distribution_id, config = _distributions(template)["API"]
    assert config["Aliases"] == [BRANDED]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    record_id, record = _one(template, "AWS::Route53::RecordSet")
    assert record_id.startswith("ApiDomainAlias")  # the record the API's own domain had: moved, not doubled
    assert (record["Properties"]["Name"], record["Properties"]["Type"]) == (f"{BRANDED}.", "A")
    assert record["Properties"]["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [distribution_id, "DomainName"]}
    assert template.find_outputs("DistributionDomainName")  # a CNAME's target without the zone
    # links and the snippet use the domain; sales tooling signs for the API itself, which CloudFront cannot relay
    url = f"https://{BRANDED}/"
    assert template.find_outputs("ApiUrl")["ApiUrl"]["Value"] == url
    assert _variables(template, "SenderFunction")["PUBLIC_API_URL"] == url
    assert "execute-api" in json.dumps(template.find_outputs("SalesApiUrl"))
    assert not template.find_resources("AWS::ApiGatewayV2::DomainName")
