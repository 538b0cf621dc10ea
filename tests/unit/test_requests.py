"""The client's address behind CloudFront (nurture:waf): from CloudFront-Viewer-Address, only when told."""

from collections.abc import Callable, Iterator

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from nurture import settings
from nurture.http.requests import source_ip
from nurture.local.events import http_api_event

Configure = Callable[[str | None], None]


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
    return source_ip(APIGatewayProxyEventV2(event))


@pytest.mark.parametrize(("viewer", "address"), [
    ("198.51.100.7:46532", "198.51.100.7"), ("2001:db8::7:46532", "2001:db8::7"),
    ("[2001:db8::7]:46532", "2001:db8::7"), ("not an address", "127.0.0.1"), ("", "127.0.0.1")])
def test_behind_cloudfront_the_viewers_address_is_read_from_its_header(client_ip_header, viewer, address):
    client_ip_header("cloudfront-viewer-address")
    assert address_of(viewer, "127.0.0.1") == address


def test_without_cloudfront_the_header_is_ignored(client_ip_header):
    client_ip_header(None)
    assert address_of("198.51.100.7:1", "203.0.113.9") == "203.0.113.9"
