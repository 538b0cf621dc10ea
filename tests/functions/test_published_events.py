"""Every API Gateway event AWS and its tooling publish gets a clean answer, never an exception."""

import json

import pytest

from nurture.local.functions import invoke
from nurture.topology import ROUTES
from tests.conftest import SHARED_EVENTS

API_EVENTS = sorted(
    path for path in SHARED_EVENTS.glob("*.json")
    if any(marker in path.name.lower() for marker in ("apigateway", "apigw", "apiGateway".lower()))
)
OTHER_EVENTS = sorted(set(SHARED_EVENTS.glob("*.json")) - set(API_EVENTS))


def test_published_api_events_are_present():
    assert len(API_EVENTS) >= 10, API_EVENTS


API_FUNCTIONS = sorted({route.function for route in ROUTES})
STREAM_EVENTS = sorted(path for path in SHARED_EVENTS.glob("*.json") if "dynamo" in path.name.lower())


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("function", API_FUNCTIONS)
@pytest.mark.parametrize("path", API_EVENTS, ids=[p.name for p in API_EVENTS])
def test_published_api_event_gets_a_clean_response(function, path):
    event = json.loads(path.read_text(encoding="utf-8"))
    response = invoke(function, event)
    # None of the published samples is aimed at one of our routes: each must be a clean "no such route".
    assert response["statusCode"] == 404
    problem = json.loads(response["body"])
    assert problem["status"] == 404 and problem["type"].endswith("/not-found")


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("path", OTHER_EVENTS, ids=[p.name for p in OTHER_EVENTS])
def test_non_api_events_are_refused_cleanly(path):
    event = json.loads(path.read_text(encoding="utf-8"))
    response = invoke("forms", event)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["type"].endswith("unsupported-event")


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("name", ["awsdocs__apigw-rest-proxy-input-format.json", "samcli__apigateway-aws-proxy.json",
                                  "awsdocs__apigw-http-api-payload-v1.json"])
def test_rest_payload_aimed_at_a_form_is_served_like_http_api(name):
    """A REST API (or payload 1.0) in front, e.g. for WAF: the same routes answer. The published event
    is copied and pointed at our route; the file itself is untouched."""
    event = json.loads((SHARED_EVENTS / name).read_text(encoding="utf-8"))
    body = json.dumps({"email": "rest@example.jp", "name": "R", "company": "C", "consent": True})
    event |= {"httpMethod": "POST", "path": "/v1/forms/contact", "resource": "/v1/forms/{form_id}",
              "pathParameters": {"form_id": "contact"}, "body": body, "isBase64Encoded": False,
              "headers": {**(event.get("headers") or {}), "Content-Type": "application/json"},
              "multiValueHeaders": {}}
    event["requestContext"] = {**event["requestContext"], "httpMethod": "POST", "resourcePath": "/v1/forms/{form_id}"}
    response = invoke("forms", event)
    assert response["statusCode"] == 202, response["body"]
    assert json.loads(response["body"])["status"] == "received"


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("function", ["scoring", "handoff"])
@pytest.mark.parametrize("path", STREAM_EVENTS, ids=[p.name for p in STREAM_EVENTS])
def test_published_stream_events_are_reported_record_by_record(function, path):
    """Records of another table (which the filters keep away) are poison: each reported, none crashes."""
    event = json.loads(path.read_text(encoding="utf-8"))
    response = invoke(function, event)
    reported = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
    assert reported == {record["dynamodb"]["SequenceNumber"] for record in event["Records"]}


SQS_EVENTS = sorted(path for path in SHARED_EVENTS.glob("*.json") if "sqs" in path.name.lower())


def test_published_sqs_events_are_present():
    assert len(SQS_EVENTS) >= 4, SQS_EVENTS


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("path", SQS_EVENTS, ids=[p.name for p in SQS_EVENTS])
def test_published_sqs_events_are_reported_record_by_record_by_the_sender(path):
    """Their bodies are not step messages: each record fails alone (back to the queue, then its DLQ)."""
    event = json.loads(path.read_text(encoding="utf-8"))
    response = invoke("sender", event)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == \
        sorted(r["messageId"] for r in event["Records"])
