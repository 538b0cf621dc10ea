"""GET /v1/openapi.json and GET /v1/docs: the whole public API's contract, served by the forms function.

The document is generated from every route set, not only the serving function's own routes, by a
router that is built for that purpose and never resolves a request. Both are made on their first request:
the other functions' routes are no part of the forms function's cold start.
"""

import json
from functools import cache
from pathlib import Path as FilePath

from nurture.http.router import Response, Router

TITLE = "Nurture API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Lead capture and tracking. Errors are RFC 9457 problem details (application/problem+json). "
    "POST /v1/forms/{form_id} takes application/json, application/x-www-form-urlencoded or "
    "multipart/form-data with the standard fields (email, name, company, title, department, industry, "
    "employees, phone, country, timezone, consent, vid, utm_*, page) plus the form's custom fields."
)


@cache
def openapi_json() -> str:
    from nurture.http.app import router
    from nurture.http.console_routes import register_console_routes
    from nurture.http.forms_routes import register_form_routes
    from nurture.http.openapi import document
    from nurture.http.sales_routes import register_sales_routes
    from nurture.http.tracking_routes import register_tracking_routes

    every_route = router([register_form_routes, register_tracking_routes, register_sales_routes,
                          register_console_routes])
    return json.dumps(document(every_route, TITLE, VERSION, DESCRIPTION), ensure_ascii=False)


def register_docs_routes(app: Router) -> None:
    @app.get("/v1/openapi.json", documented=False)
    def openapi() -> Response:
        return Response(200, "application/json", openapi_json())

    @app.get("/v1/docs", documented=False)
    def swagger_ui() -> Response:
        # Powertools' Swagger UI page, its script and style inlined from the package.
        from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

        assets = FilePath(generate_swagger_html.__code__.co_filename).parent
        html = generate_swagger_html(
            openapi_json().replace("</", "<\\/"),
            (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
            "",
            None,
        )
        return Response(200, "text/html; charset=utf-8", html)
