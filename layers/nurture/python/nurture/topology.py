"""The functions and the public routes: read by the CDK stack and by the local gateway alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    module: str  # importable module holding `lambda_handler`
    asset: str  # folder of the function's code, relative to the repository root
    memory_mb: int
    timeout_seconds: int
    description: str


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # API Gateway syntax: /v1/forms/{form_id}
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


# Stack outputs the CLI reads to find a deployed system (`--stack NAME`).
OUTPUT_API_URL = "ApiUrl"
OUTPUT_TABLE = "TableName"
OUTPUT_TOKEN_SECRET = "TokenSecretId"  # noqa: S105 - an output's name, not a secret

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        # 512 MB: Lambda's CPU scales with memory, and a cold import of Powertools + pydantic is CPU-bound.
        FunctionSpec("forms", "functions.forms.handler", "functions/forms", 512, 10,
                     "Lead capture from web forms, and the API's OpenAPI document"),
        FunctionSpec("tracking", "functions.tracking.handler", "functions/tracking", 512, 5,
                     "Website beacons, email open pixels and click redirects"),
    )
}

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("POST", "/v1/forms/{form_id}", "forms"),
    ApiRoute("OPTIONS", "/v1/forms/{form_id}", "forms"),
    ApiRoute("GET", "/v1/forms/{form_id}/thanks", "forms"),
    ApiRoute("GET", "/v1/openapi.json", "forms"),
    ApiRoute("GET", "/v1/docs", "forms"),
    ApiRoute("POST", "/v1/events", "tracking"),
    ApiRoute("OPTIONS", "/v1/events", "tracking"),
    ApiRoute("GET", "/v1/t/o/{token}", "tracking"),
    ApiRoute("GET", "/v1/t/c/{token}", "tracking"),
)
