"""RFC 9457 problem details: the one shape every error response of the API takes."""

from __future__ import annotations

import json
from typing import Any

from nurture.domain.errors import FieldProblem, InputError
from nurture.http.router import Response

OpenAPIResponse = dict[str, Any]

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://nurture.invalid/problems/"  # documented in docs/api.md; not dereferenced


def problem(status: int, slug: str, title: str, detail: str, instance: str | None = None,
            problems: list[FieldProblem] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if problems:
        body["errors"] = [{"field": p.field, "code": p.code, "message": p.message} for p in problems]
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body, ensure_ascii=False),
                    headers=headers or {})


def input_problem(error: InputError, instance: str | None = None) -> Response:
    return problem(error.status, error.slug, error.title, error.detail, instance, error.problems)


def documented(description: str, media_type: str | None = None, model: Any = None) -> OpenAPIResponse:
    """An OpenAPI response entry; `model` (a msgspec Struct) becomes a schema of the document's components."""
    response: OpenAPIResponse = {"description": description}
    if model is not None:
        response["content"] = {media_type or "application/json": {"model": model}}
    elif media_type is not None:
        response["content"] = {media_type: {"schema": {}}}
    return response


def problem_doc(description: str) -> OpenAPIResponse:
    return documented(description, PROBLEM_JSON)
