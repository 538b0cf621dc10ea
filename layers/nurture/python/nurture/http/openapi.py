"""The OpenAPI 3.1 document of a router's routes, from the same registrations and Structs that serve them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from nurture.http.problems import problem_doc
from nurture.http.router import Route, Router

_REF = "#/components/schemas/{name}"
SECURITY_SCHEMES = {
    "console": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "The console user's Cognito ID token, checked by the HTTP API's JWT authorizer"},
}


def document(router: Router, title: str, version: str, description: str) -> dict[str, Any]:
    router.load_deferred()
    routes = [route for route in router.routes if route.documented]
    models = _models(routes)
    refs, components = msgspec.json.schema_components(models, ref_template=_REF)
    schema_of = dict(zip(models, refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(re.sub(r"<(\w+)>", r"{\1}", route.path), {})[route.method.lower()] = \
            _operation(route, schema_of, components)
    for parameters in {route.parameters for route in routes if route.parameters is not None}:
        del components[_name(schema_of[parameters])]  # they are the operations' parameters, not schemas of their own
    schemes = {route.security for route in routes if route.security}
    return {"openapi": "3.1.0", "info": {"title": title, "version": version, "description": description},
            "paths": paths, "components": {"schemas": components, **(
                {"securitySchemes": {name: SECURITY_SCHEMES[name] for name in sorted(schemes)}} if schemes else {})}}


def _models(routes: Iterable[Route]) -> list[type]:
    found: list[type] = []
    for route in routes:
        candidates = [route.parameters, route.body, *(
            media.get("model") for answer in route.responses.values() for media in answer.get("content", {}).values())]
        found += [model for model in candidates if model is not None and model not in found]
    return found


def _operation(route: Route, schema_of: dict[type, dict[str, Any]], components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": route.summary, "operationId": f"{route.function.__name__}_"
                                 f"{route.method.lower()}", "tags": list(route.tags)}
    if route.security:
        operation["security"] = [{route.security: []}]
    if route.parameters is not None:
        operation["parameters"] = _parameters(route, components[_name(schema_of[route.parameters])])
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": schema_of[route.body]}}}
    responses = {status: _response(answer, schema_of) for status, answer in route.responses.items()}
    if route.body is not None:
        responses.setdefault(400, problem_doc("Malformed body"))
    queried = route.parameters is not None and set(route.parameters.__struct_fields__) - set(route.path_names)
    if route.body is not None or queried:
        responses.setdefault(422, problem_doc("Invalid query or body"))
    operation["responses"] = {str(status): responses[status] for status in sorted(responses)}
    return operation


def _name(reference: dict[str, Any]) -> str:
    """A component's name from its reference: msgspec names two Structs of one name apart by their modules."""
    return str(reference["$ref"]).rpartition("/")[2]


def _parameters(route: Route, schema: dict[str, Any]) -> list[dict[str, Any]]:
    in_path, required = set(route.path_names), set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = _without_null(field)
        described = field.pop("description", None)
        parameter = {"name": name, "in": "path" if name in in_path else "query",
                     "required": name in in_path or name in required, "schema": field}
        if described:
            parameter["description"] = described
        parameters.append(parameter)
    return parameters


def _response(answer: Mapping[str, Any], schema_of: dict[type, dict[str, Any]]) -> dict[str, Any]:
    content = {media_type: ({"schema": schema_of[media["model"]]} if "model" in media else media)
               for media_type, media in answer.get("content", {}).items()}
    return {**answer, "content": content} if content else dict(answer)


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: an optional one is absent, never null."""
    choices = [choice for choice in field.get("anyOf", ()) if choice != {"type": "null"}]
    if len(choices) != 1:
        return dict(field)
    rest = {key: value for key, value in field.items() if key != "anyOf" and not (key == "default" and value is None)}
    return {**choices[0], **rest}
