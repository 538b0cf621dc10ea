"""GET /v1/openapi.json and GET /v1/docs: the whole public API's contract, served by the forms function.

The document is generated from every route set, not only the serving function's own routes, by a
resolver that is built for that purpose and never resolves a request.
"""


from functools import cache
from pathlib import Path as FilePath

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from nurture.http.forms_routes import register_form_routes
from nurture.http.sales_routes import register_sales_routes
from nurture.http.tracking_routes import register_tracking_routes

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
    documented = APIGatewayHttpResolver(enable_validation=True)
    register_form_routes(documented)
    register_tracking_routes(documented)
    register_sales_routes(documented)
    return documented.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)



# Route functions carry no return annotation: Powertools would read one as a response model.
def register_docs_routes(app: ApiGatewayResolver) -> None:
    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi():
        return Response(200, "application/json", openapi_json())

    @app.get("/v1/docs", include_in_schema=False)
    def swagger_ui():
        # Imported here: the Swagger UI's models cost ~40 ms of every cold start otherwise.
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
