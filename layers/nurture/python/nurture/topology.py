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
    trigger: str = "api"  # api (routes below), stream (the table's stream), schedule (EventBridge Scheduler),
    # queue (the send queue)


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # API Gateway syntax: /v1/forms/{form_id}
    function: str
    iam: bool = False  # IAM-authorized in AWS (sales tooling signs its requests); open on the local runtime

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


# Stack outputs the CLI reads to find a deployed system (`--stack NAME`).
OUTPUT_API_URL = "ApiUrl"
OUTPUT_TABLE = "TableName"
OUTPUT_TOKEN_SECRET = "TokenSecretId"  # noqa: S105 - an output's name, not a secret
OUTPUT_HANDOFF_QUEUE = "HandoffQueueUrl"

SEND_QUEUE_RECEIVES = 5  # receives of a send-queue message before it goes to the DLQ (stack and local alike)

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        # 512 MB: Lambda's CPU scales with memory, and a cold import of Powertools + pydantic is CPU-bound.
        FunctionSpec("forms", "functions.forms.handler", "functions/forms", 512, 10,
                     "Lead capture from web forms, and the API's OpenAPI document"),
        FunctionSpec("tracking", "functions.tracking.handler", "functions/tracking", 512, 5,
                     "Website beacons, email open pixels and click redirects"),
        # A batch of up to 100 records, with retries on lost races: a minute leaves room.
        FunctionSpec("scoring", "functions.scoring.handler", "functions/scoring", 512, 60,
                     "Rescore leads from new activity on the table's stream", trigger="stream"),
        FunctionSpec("handoff", "functions.handoff.handler", "functions/handoff", 256, 30,
                     "Publish new HANDOFF# outbox items to the sales FIFO queue", trigger="stream"),
        # One tick a minute; a backlog drains over several ticks, so a minute is also its budget.
        FunctionSpec("dispatcher", "functions.dispatcher.handler", "functions/dispatcher", 256, 50,
                     "Claim leads whose step email is due and queue them for the sender", trigger="schedule"),
        # Ten sends of a batch one after another, each a few reads, one SES call and one transaction.
        FunctionSpec("sender", "functions.sender.handler", "functions/sender", 256, 30,
                     "Send due step emails through SES and record them on the lead", trigger="queue"),
        FunctionSpec("ses_events", "functions.ses_events.handler", "functions/ses_events", 256, 30,
                     "Record SES deliveries, bounces, complaints, opens and clicks; suppress bad addresses",
                     trigger="queue"),
        FunctionSpec("sales_api", "functions.sales_api.handler", "functions/sales_api", 512, 10,
                     "Sales API: leads, ranks, feedback and erasure"),
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
    ApiRoute("GET", "/v1/unsubscribe/{token}", "tracking"),
    ApiRoute("POST", "/v1/unsubscribe/{token}", "tracking"),
    ApiRoute("GET", "/v1/leads", "sales_api", iam=True),
    ApiRoute("GET", "/v1/leads/{lead_id}", "sales_api", iam=True),
    ApiRoute("POST", "/v1/leads/{lead_id}/feedback", "sales_api", iam=True),
    ApiRoute("DELETE", "/v1/leads/{lead_id}", "sales_api", iam=True),
)
