"""The API functions' router: routes, typed parameters and bodies, CORS, and the OpenAPI document of the same."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

import msgspec
import pytest

from nurture.domain.errors import FieldProblem, ValidationFailed
from nurture.http.app import router
from nurture.http.openapi import document
from nurture.http.problems import documented
from nurture.http.requests import read_request
from nurture.http.router import Cors, DeferredRoutes, Input, Parameters, Response, Router
from nurture.local.events import http_api_event

ORIGIN = "https://www.example.jp"


class Shelf(Parameters):
    shelf_id: Annotated[str, msgspec.Meta(max_length=8, description="the shelf")]
    limit: Annotated[int, msgspec.Meta(ge=1, le=10)] = 5
    colour: str | None = None


class Book(Input):
    title: Annotated[str, msgspec.Meta(max_length=10)]
    pages: int | None = None

    def __post_init__(self) -> None:
        if self.title.strip() == "":
            raise ValidationFailed("The body is invalid.", [FieldProblem("title", "invalid", "is blank")])


class Shelved(msgspec.Struct):
    title: str


def library(app: Router) -> None:
    @app.get("/v1/shelves/<shelf_id>", summary="A shelf", parameters=Shelf)
    def shelf(shelf_id: str, limit: int, colour: str | None) -> Response:
        return Response(200, "application/json", json.dumps({"shelf": shelf_id, "limit": limit, "colour": colour}))

    @app.post("/v1/shelves/<shelf_id>", summary="Shelve a book", parameters=Shelf, body=Book,
              responses={201: documented("Shelved", model=Shelved)})
    def shelve(shelf_id: str, limit: int, colour: str | None, body: Book) -> Response:
        return Response(201, "application/json", json.dumps({"title": body.title}))

    @app.get("/v1/cover", summary="A picture")
    def cover() -> Response:
        return Response(200, "image/gif", b"GIF89a")


def answer(method: str, path: str, *, query: str = "", body: Any = None, headers: dict[str, str] | None = None,
           event: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    shown = event or http_api_event(method, path, query=query, body=raw,
                                    headers={"content-type": "application/json", **(headers or {})})
    app = router([library])
    app.cors = Cors((ORIGIN,))
    return app.resolve(read_request(shown))


def problem(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["Content-Type"] == "application/problem+json"
    return json.loads(response["body"])


def test_a_route_gets_its_path_value_and_query_text_as_typed_arguments_and_ignores_other_keys():
    got = answer("GET", "/v1/shelves/kids", query="limit=3&other=1")

    assert got["statusCode"] == 200 and json.loads(got["body"]) == {"shelf": "kids", "limit": 3, "colour": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=ten"])
def test_a_query_value_out_of_bounds_or_of_the_wrong_type_is_a_422_naming_it(query: str):
    got = answer("GET", "/v1/shelves/kids", query=query)

    assert got["statusCode"] == 422
    assert [(e["field"], e["code"]) for e in problem(got)["errors"]] == [("limit", "invalid")]


def test_a_path_value_over_its_length_is_a_422():
    got = answer("GET", "/v1/shelves/much-too-long")

    assert got["statusCode"] == 422 and problem(got)["errors"][0]["field"] == "shelf_id"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({}, "title", "required"),
    ({"title": "x" * 11}, "title", "too_long"),
    ({"title": "ok", "pages": "many"}, "pages", "invalid"),
    ({"title": "ok", "isbn": "1"}, "isbn", "unknown"),
    ({"title": "   "}, "title", "invalid"),
    ([1, 2], "body", "invalid"),
])
def test_a_wrong_body_is_a_422_naming_the_field(body: Any, field: str, code: str):
    got = answer("POST", "/v1/shelves/kids", body=body)

    assert got["statusCode"] == 422, got["body"]
    assert [(e["field"], e["code"]) for e in problem(got)["errors"]] == [(field, code)]


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b""])
def test_a_body_that_is_no_json_is_a_400(body: bytes):
    assert answer("POST", "/v1/shelves/kids", body=body)["statusCode"] == 400


def test_a_good_body_reaches_the_route():
    got = answer("POST", "/v1/shelves/kids", body={"title": "Momo", "pages": 200})

    assert got["statusCode"] == 201 and json.loads(got["body"]) == {"title": "Momo"}


def test_an_unknown_path_is_404_and_a_known_path_with_another_method_is_405_with_allow():
    assert problem(answer("GET", "/v1/nothing"))["status"] == 404
    refused = answer("DELETE", "/v1/shelves/kids")
    assert refused["statusCode"] == 405 and refused["headers"]["Allow"] == "GET, OPTIONS, POST"


def test_a_preflight_from_an_allowed_origin_gets_the_cors_headers_and_another_origin_none():
    allowed = answer("OPTIONS", "/v1/shelves/kids", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    other = answer("OPTIONS", "/v1/shelves/kids", headers={"Origin": "https://evil.example"})

    assert allowed["statusCode"] == 204
    assert allowed["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed["headers"]["Access-Control-Allow-Methods"] == "GET,OPTIONS,POST"
    assert "Content-Type" in allowed["headers"]["Access-Control-Allow-Headers"]
    assert not any(name.startswith("Access-Control") for name in other["headers"])


def test_an_answer_to_an_allowed_origin_names_it_and_varies_by_origin():
    got = answer("GET", "/v1/shelves/kids", headers={"Origin": ORIGIN})

    assert got["headers"]["Access-Control-Allow-Origin"] == ORIGIN and got["headers"]["Vary"] == "Origin"


def test_a_binary_answer_is_base64():
    got = answer("GET", "/v1/cover")

    assert got["isBase64Encoded"] is True and base64.b64decode(got["body"]) == b"GIF89a"


def test_a_rest_payload_is_served_by_the_same_route():
    event = {"httpMethod": "GET", "path": "/v1/shelves/kids", "resource": "/v1/shelves/{shelf_id}",
             "headers": {"Host": "example"}, "multiValueHeaders": {}, "queryStringParameters": {"limit": "2"},
             "pathParameters": {"shelf_id": "kids"}, "body": None, "isBase64Encoded": False,
             "requestContext": {"httpMethod": "GET", "stage": "prod", "identity": {"sourceIp": "192.0.2.1"}}}

    got = answer("GET", "", event=event)

    assert got["statusCode"] == 200 and json.loads(got["body"])["limit"] == 2 and "cookies" not in got


def test_a_route_naming_a_path_parameter_its_parameters_lack_is_refused_at_registration():
    with pytest.raises(ValueError, match="book_id"):
        Router().get("/v1/books/<book_id>", parameters=Shelf)


def test_the_openapi_document_describes_parameters_bodies_and_answers_from_the_same_types():
    spec = document(router([library]), "T", "1", "d")

    shelf = spec["paths"]["/v1/shelves/{shelf_id}"]
    parameters = {p["name"]: p for p in shelf["get"]["parameters"]}
    assert parameters["shelf_id"] == {"name": "shelf_id", "in": "path", "required": True,
                                      "schema": {"type": "string", "maxLength": 8}, "description": "the shelf"}
    assert parameters["colour"] == {"name": "colour", "in": "query", "required": False, "schema": {"type": "string"}}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10, "default": 5}
    post = shelf["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Book"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Shelved"}
    assert set(post["responses"]) == {"201", "400", "422"}
    assert set(spec["components"]["schemas"]) == {"Book", "Shelved"}
    assert spec["components"]["schemas"]["Book"]["additionalProperties"] is False
    assert "parameters" not in spec["paths"]["/v1/cover"]["get"]


def test_a_signed_in_route_names_its_scheme_and_two_structs_of_one_name_stay_apart():
    other_shelf = msgspec.defstruct("Shelf", [("shelf_id", str)], bases=(Parameters,), module="elsewhere")

    def more(app: Router) -> None:
        @app.get("/v1/private/<shelf_id>", summary="Mine", parameters=other_shelf, security="console")
        def private(shelf_id: str) -> Response:
            return Response(200, "application/json", "{}")

    spec = document(router([library, more]), "T", "1", "d")

    operation = spec["paths"]["/v1/private/{shelf_id}"]["get"]
    assert operation["security"] == [{"console": []}] and "security" not in spec["paths"]["/v1/cover"]["get"]
    assert spec["components"]["securitySchemes"]["console"]["scheme"] == "bearer"
    assert [p["schema"] for p in operation["parameters"]] == [{"type": "string"}]
    assert spec["paths"]["/v1/shelves/{shelf_id}"]["get"]["parameters"][0]["schema"]["maxLength"] == 8


def test_a_body_is_read_as_leniently_as_before_a_number_in_a_string_is_a_number():
    got = answer("POST", "/v1/shelves/kids", body={"title": "Momo", "pages": "200"})

    assert got["statusCode"] == 201


def test_an_answer_to_an_origin_not_allowed_says_it_varies_by_origin_and_allows_nothing():
    got = answer("GET", "/v1/shelves/kids", headers={"Origin": "https://evil.example"})

    assert got["headers"]["Vary"] == "Origin" and "Access-Control-Allow-Origin" not in got["headers"]


def test_a_deferred_route_set_is_registered_at_the_first_request_under_its_prefixes_only():
    app = router([DeferredRoutes(("/v1/shelves",), __name__, "library")])

    def status(path: str) -> int:
        return int(app.resolve(read_request(http_api_event("GET", path)))["statusCode"])

    assert status("/v1/cover") == 404  # outside the set's prefixes: not loaded by this request

    got = app.resolve(read_request(http_api_event("GET", "/v1/shelves/kids")))
    assert got["statusCode"] == 200 and json.loads(got["body"])["shelf"] == "kids"
    assert status("/v1/cover") == 200  # the whole set came with it


def test_the_openapi_document_includes_deferred_routes():
    spec = document(router([DeferredRoutes(("/v1/shelves",), __name__, "library")]), "T", "1", "d")

    assert "/v1/shelves/{shelf_id}" in spec["paths"]


def test_every_console_route_lies_under_the_prefixes_its_set_is_deferred_by():
    from functions.console.handler import ROUTES

    for route_set in ROUTES:
        if isinstance(route_set, DeferredRoutes):
            app = Router()
            app.defer(route_set)
            app.load_deferred()
            assert app.routes, route_set
            # A route outside its set's prefixes would answer 404 until another request loaded the set.
            assert all(route_set.serves(route.path.split("<")[0].rstrip("/")) for route in app.routes), route_set
