"""What the routes read of an API Gateway event (every published payload kind), and the client's address
behind CloudFront (nurture:waf): from CloudFront-Viewer-Address, only when told."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nurture import settings
from nurture.http.requests import read_request, source_ip
from nurture.local.events import http_api_event
from tests.conftest import SHARED_EVENTS

Configure = Callable[[str | None], None]
API_EVENTS = sorted(path for path in SHARED_EVENTS.glob("*.json")
                    if any(marker in path.name.lower() for marker in ("apigateway", "apigw")))


def test_the_published_api_gateway_payloads_are_there_to_be_read():
    # Both payload formats of the HTTP API and the REST API's: without them the test below would run for none.
    assert len(API_EVENTS) >= 4 and {"2.0", None} <= {json.loads(p.read_text()).get("version") for p in API_EVENTS}


@pytest.mark.parametrize("path", API_EVENTS, ids=lambda path: path.stem)
def test_every_published_api_event_is_read_with_its_method_path_address_and_headers(path: Path):
    event = json.loads(path.read_text())
    context = event["requestContext"]

    request = read_request(event)

    assert request is not None
    if event.get("version") == "2.0":
        stage = "" if context["stage"] == "$default" else "/" + context["stage"]  # a named stage leads the path
        assert (request.method, stage + request.path, request.connection_ip) == (
            context["http"]["method"], event["rawPath"], context["http"]["sourceIp"])
        assert request.http_api and request.jwt_claims == (context.get("authorizer") or {}).get("jwt", {}).get(
            "claims", {})
    else:
        assert (request.method, request.path, request.connection_ip) == (
            event["httpMethod"], event["path"], context["identity"]["sourceIp"])
        assert not request.http_api and request.jwt_claims is None
    for name, value in (event.get("headers") or {}).items():
        assert request.headers[name.lower()] == value


def test_a_named_stage_is_not_part_of_the_path():
    event = http_api_event("GET", "/prod/v1/forms/contact/thanks")
    event["requestContext"]["stage"] = "prod"

    request = read_request(event)

    assert request is not None and request.path == "/v1/forms/contact/thanks"


def test_a_rest_request_is_read_whatever_the_case_of_its_header_names():
    event = {"httpMethod": "post", "path": "/v1/purchases", "headers": {"Content-Type": "text/csv"}, "body": "x",
             "requestContext": {"identity": {"sourceIp": "192.0.2.1", "userArn": "arn:aws:iam::1:user/ops"}}}

    request = read_request(event)

    assert request is not None
    assert (request.method, request.headers["content-type"], request.caller_arn) == (
        "POST", "text/csv", "arn:aws:iam::1:user/ops")


def test_an_iam_signed_http_api_request_names_its_caller():
    event = http_api_event("POST", "/v1/purchases")
    event["requestContext"]["authorizer"] = {"iam": {"userArn": "arn:aws:iam::1:role/importer"}}

    request = read_request(event)

    assert request is not None and request.caller_arn == "arn:aws:iam::1:role/importer"


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"version": "1.0", "source": "aws.events"}])
def test_anything_but_an_api_gateway_event_is_no_request(event):
    assert read_request(event) is None


@pytest.fixture
def client_ip_header(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Runtime settings with (or without) CLIENT_IP_HEADER, read afresh; forgotten afterwards."""
    monkeypatch.setenv("TABLE_NAME", "table")
    monkeypatch.setenv("SIGNING_KEY_PARAMETER", "/nurture/signing-keyring")

    def configure(header: str | None) -> None:
        if header is None:
            monkeypatch.delenv("CLIENT_IP_HEADER", raising=False)
        else:
            monkeypatch.setenv("CLIENT_IP_HEADER", header)
        settings.reload()

    yield configure
    monkeypatch.delenv("CLIENT_IP_HEADER", raising=False)
    settings.reload()


def address_of(viewer: str, connection: str) -> str | None:
    event = http_api_event("GET", "/v1/t/o/x.gif", headers={"cloudfront-viewer-address": viewer},
                           source_ip=connection)
    request = read_request(event)
    assert request is not None
    return source_ip(request)


@pytest.mark.parametrize(("viewer", "address"), [
    ("198.51.100.7:46532", "198.51.100.7"), ("2001:db8::7:46532", "2001:db8::7"),
    ("[2001:db8::7]:46532", "2001:db8::7"), ("not an address", "127.0.0.1"), ("", "127.0.0.1")])
def test_behind_cloudfront_the_viewers_address_is_read_from_its_header(client_ip_header, viewer, address):
    client_ip_header("cloudfront-viewer-address")
    assert address_of(viewer, "127.0.0.1") == address


def test_without_cloudfront_the_header_is_ignored(client_ip_header):
    client_ip_header(None)
    assert address_of("198.51.100.7:1", "203.0.113.9") == "203.0.113.9"
