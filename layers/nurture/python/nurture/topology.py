"""The functions and the public routes: read by the CDK stack and by the local gateway alike."""

from __future__ import annotations

from typing import Any

from msgspec import Struct


class FunctionSpec(Struct, frozen=True):
    name: str
    module: str  # importable module holding `lambda_handler`
    asset: str  # folder of the function's code, relative to the repository root
    memory_mb: int
    timeout_seconds: int
    description: str
    trigger: str = "api"  # api (routes below), stream (the table's stream), schedule (EventBridge Scheduler),
    # queue (its own SQS queue: send, SES events, audience), receipt (SES receiving's rule, asynchronously)
    # Lambda concurrency set aside for it, and its ceiling (nurture:reservedConcurrency=false drops them all); the
    # sender's is nurture:senderConcurrency, since its pace depends on it.
    reserved_concurrency: int | None = None


class Throttle(Struct, frozen=True):
    rate: int  # requests a second, steady, per route: API Gateway's bucket is shared by every client of the route
    burst: int  # requests at once above the steady rate


# Each route's throttle class, applied on the API stage. The stage's own default (infra/constructs/public_api.py)
# is the ceiling: no class goes above it.
THROTTLES: dict[str, Throttle] = {
    # People fill in forms a few a minute even in a campaign; 20 a second still bounds a script posting spam.
    "forms": Throttle(rate=20, burst=50),
    # A beacon per page view and per leave: a busy B2B site's peak, ten times over.
    "beacons": Throttle(rate=100, burst=200),
    # Mail scanners open and click every link of every email within seconds of SES sending it (14 a second
    # by default); a throttled click is a person's broken link, so this class is the most generous.
    "email": Throttle(rate=100, burst=300),
    # One-click unsubscribes (RFC 8058) arrive as mailboxes process our sends; one refused is a complaint.
    "unsubscribe": Throttle(rate=20, burst=50),
    # Developers reading the API's documentation.
    "docs": Throttle(rate=5, burst=10),
    # Sales tooling, signed: a CRM sync paging through leads and sending feedback.
    "sales": Throttle(rate=10, burst=20),
    # People at the console: a page is a few requests; a team of marketers and salespeople clicking about.
    "console": Throttle(rate=20, burst=40),
}


class ApiRoute(Struct, frozen=True):
    method: str
    path: str  # API Gateway syntax: /v1/forms/{form_id}
    function: str
    throttle: str  # its class in THROTTLES
    iam: bool = False  # IAM-authorized in AWS (sales tooling signs its requests); open on the local runtime
    # The console's: Cognito's ID token, checked by the HTTP API's JWT authorizer in AWS and by the local gateway
    # against the emulator's user pool
    signed_in: bool = False

    def __post_init__(self) -> None:
        if self.throttle not in THROTTLES:
            raise ValueError(f"{self.route_key}: throttle {self.throttle!r} is none of {', '.join(THROTTLES)}")

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


# Stack outputs the CLI reads to find a deployed system (`--stack NAME`).
OUTPUT_API_URL = "ApiUrl"
OUTPUT_TABLE = "TableName"
OUTPUT_SIGNING_KEY_PARAMETER = "SigningKeyParameter"  # the SSM SecureString parameter holding the keyring
OUTPUT_HANDOFF_QUEUE = "HandoffQueueUrl"
OUTPUT_AUDIENCE_QUEUE = "AudienceQueueUrl"  # where `nurture segment` queues a scan's parts
OUTPUT_SENDER_ADDRESS = "SenderAddress"  # what `nurture campaign test` sends from
OUTPUT_CONFIGURATION_SET = "SesConfigurationSet"
OUTPUT_CONFIG_BUCKET = "ConfigBucketName"  # where `nurture config push` publishes
OUTPUT_WEBHOOK_PARAMETERS = "WebhookParameterPath"  # `nurture webhooks set` writes each webhook's parameter here
OUTPUT_CONSOLE_USER_POOL = "ConsoleUserPoolId"
OUTPUT_CONSOLE_CLIENT = "ConsoleClientId"
OUTPUT_CONSOLE_BUCKET = "ConsoleBucketName"  # where `nurture console publish` uploads the console's page
OUTPUT_CONSOLE_URL = "ConsoleUrl"
# The console's page and its API share one origin (CloudFront in AWS, the gateway locally): no CORS preflights.
CONSOLE_API_PATTERN = "/v1/console/*"
OUTPUT_DEPLOYED_CONFIG = "DeployedConfigUrl"  # version 1: the config bundle the deploy shipped (s3://…)

# SES's email events reach the ses_events queue through EventBridge's default bus (docs/ses-events.md): the rule
# takes SES's events of the stack's own configuration set only (SES tags each with it), in AWS and locally alike.
SES_EVENT_SOURCE = "aws.ses"
SES_CONFIGURATION_SET_TAG = "ses:configuration-set"


def ses_events_pattern(configuration_set: str) -> dict[str, Any]:
    """The EventBridge rule's event pattern: an email event of this configuration set."""
    return {"source": [SES_EVENT_SOURCE],
            "detail": {"mail": {"tags": {SES_CONFIGURATION_SET_TAG: [configuration_set]}}}}


# Where SES receiving stores a reply's raw message in the reply bucket: this prefix and SES's message id.
REPLY_OBJECT_PREFIX = "replies/"
REPLY_KEPT_DAYS = 3  # the raw message is read within minutes; a failed reading is retried from it for days

# Download forms' materials in their private bucket: this prefix and the file's name (config/assets/<name>).
MATERIAL_PREFIX = "materials/"
OUTPUT_MATERIALS_BUCKET = "MaterialsBucketName"  # where `nurture config push` puts the materials its forms name

# A metric every function may publish (a config problem) goes under this one dimension: one metric, one alarm.
SHARED_METRIC_DIMENSIONS = {"service": "nurture"}
SEND_QUEUE_RECEIVES = 5  # receives of a send-queue message before it goes to the DLQ (stack and local alike)
ALERT_QUEUE_RECEIVES = 6  # an alert's tries before its DLQ: with the notifier's backoff, over about 15 minutes

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        # 512 MB: Lambda's CPU scales with memory, and a cold import of Powertools + pydantic is CPU-bound.
        # Reserved concurrency caps the public functions, so a flood takes no more of the account than this,
        # and guarantees the workers theirs. Forms: at ~150 ms a submit (docs/benchmarks.md) 20 answer ~130
        # requests a second, more than its routes' throttles let through together.
        FunctionSpec("forms", "functions.forms.handler", "functions/forms", 512, 10,
                     "Lead capture from web forms, and the API's OpenAPI document", reserved_concurrency=20),
        # ~30 ms a hit: 50 answer far more than its routes' throttles let through, cold starts in a burst included.
        FunctionSpec("tracking", "functions.tracking.handler", "functions/tracking", 512, 5,
                     "Website beacons, email open pixels, click redirects and download links",
                     reserved_concurrency=50),
        # A batch of up to 100 records, with retries on lost races: a minute leaves room. A stream consumer runs
        # one batch per shard at a time: ten cover a table far busier than this one's.
        FunctionSpec("scoring", "functions.scoring.handler", "functions/scoring", 512, 60,
                     "Rescore leads from new activity on the table's stream", trigger="stream",
                     reserved_concurrency=10),
        FunctionSpec("handoff", "functions.handoff.handler", "functions/handoff", 256, 30,
                     "Publish new HANDOFF# outbox items to the sales FIFO queue", trigger="stream",
                     reserved_concurrency=10),
        # One tick a minute; a backlog drains over several ticks, so a minute is also its budget. Two: a tick,
        # and `nurture invoke` beside it.
        FunctionSpec("dispatcher", "functions.dispatcher.handler", "functions/dispatcher", 256, 50,
                     "Claim leads whose step email is due and queue them for the sender", trigger="schedule",
                     reserved_concurrency=2),
        # Ten sends of a batch one after another, each a few reads, one SES call and one transaction.
        FunctionSpec("sender", "functions.sender.handler", "functions/sender", 256, 30,
                     "Send due step emails through SES and record them on the lead", trigger="queue"),
        # A few events per email sent: ten batches at once keep up with SES's rate, and its event source
        # invokes no more (infra/constructs/ses_events.py), so SQS never meets a throttle.
        FunctionSpec("ses_events", "functions.ses_events.handler", "functions/ses_events", 256, 30,
                     "Record SES deliveries, bounces, complaints, opens and clicks; suppress bad addresses",
                     trigger="queue", reserved_concurrency=10),
        # Segment scans: one part of a parallel scan per message, a few hundred profiles a page; a part hands
        # itself on before the timeout. Ten at once read a 100,000-lead table in well under a minute.
        FunctionSpec("audience", "functions.audience.handler", "functions/audience", 512, 120,
                     "Evaluate a segment over every lead, one part of a parallel scan at a time", trigger="queue",
                     reserved_concurrency=10),
        # One alert a message, each a few hundred milliseconds (SES, or a webhook that answers within five seconds);
        # five at once keep up with any sales team's hot leads, and a slow receiver holds up no other alert.
        FunctionSpec("notifier", "functions.notifier.handler", "functions/notifier", 256, 30,
                     "Tell a hot lead's owner at once: email, Slack, Teams or a signed webhook", trigger="queue",
                     reserved_concurrency=5),
        # People's replies to emails: a few a day, each two reads and a write. Five at once absorb a morning's
        # inbox; SES's asynchronous invocations wait out a throttle rather than fail.
        FunctionSpec("replies", "functions.replies.handler", "functions/replies", 256, 30,
                     "Replies to Nurture's emails: read, recorded as the lead's, an opt-out honoured",
                     trigger="receipt", reserved_concurrency=5),
        # Sales tooling is an integration or two; ten bound a runaway script.
        FunctionSpec("sales_api", "functions.sales_api.handler", "functions/sales_api", 512, 10,
                     "Sales API: leads, ranks, feedback, purchases and erasure", reserved_concurrency=10),
        # A page is a few reads of one lead or one index page; ten at once serve a marketing team and its sales.
        FunctionSpec("console", "functions.console.handler", "functions/console", 512, 10,
                     "The marketer's console API: leads, their timeline and score over time", reserved_concurrency=10),
    )
}

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("POST", "/v1/forms/{form_id}", "forms", "forms"),
    ApiRoute("OPTIONS", "/v1/forms/{form_id}", "forms", "forms"),
    ApiRoute("GET", "/v1/forms/{form_id}/thanks", "forms", "forms"),
    ApiRoute("GET", "/v1/openapi.json", "forms", "docs"),
    ApiRoute("GET", "/v1/docs", "forms", "docs"),
    ApiRoute("POST", "/v1/events", "tracking", "beacons"),
    ApiRoute("OPTIONS", "/v1/events", "tracking", "beacons"),
    ApiRoute("GET", "/v1/t/o/{token}", "tracking", "email"),
    ApiRoute("GET", "/v1/t/c/{token}", "tracking", "email"),
    ApiRoute("GET", "/v1/unsubscribe/{token}", "tracking", "unsubscribe"),
    ApiRoute("POST", "/v1/unsubscribe/{token}", "tracking", "unsubscribe"),
    ApiRoute("GET", "/v1/confirm/{token}", "tracking", "unsubscribe"),
    ApiRoute("POST", "/v1/confirm/{token}", "tracking", "unsubscribe"),
    ApiRoute("GET", "/v1/d/{token}", "tracking", "email"),
    ApiRoute("GET", "/v1/registrations/{token}", "tracking", "unsubscribe"),
    ApiRoute("POST", "/v1/registrations/{token}", "tracking", "unsubscribe"),
    ApiRoute("GET", "/v1/leads", "sales_api", "sales", iam=True),
    ApiRoute("GET", "/v1/leads/{lead_id}", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/leads/{lead_id}/feedback", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/leads/{lead_id}/owner", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/leads/{lead_id}/activities", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/leads/{lead_id}/subscriptions", "sales_api", "sales", iam=True),
    ApiRoute("GET", "/v1/accounts", "sales_api", "sales", iam=True),
    ApiRoute("GET", "/v1/accounts/{account_id}", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/accounts/{account_id}/merge", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/accounts/{account_id}/split", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/purchases", "sales_api", "sales", iam=True),
    ApiRoute("GET", "/v1/tasks", "sales_api", "sales", iam=True),
    ApiRoute("POST", "/v1/tasks/{task_id}/outcome", "sales_api", "sales", iam=True),
    ApiRoute("DELETE", "/v1/leads/{lead_id}", "sales_api", "sales", iam=True),
    ApiRoute("GET", "/v1/console/me", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/leads", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/leads/{lead_id}", "console", "console", signed_in=True),
    ApiRoute("DELETE", "/v1/console/leads/{lead_id}", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/leads/{lead_id}/owner", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/home", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/sending/resume", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/campaigns", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/campaigns/{campaign_id}", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/campaigns/{campaign_id}/preview", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/campaigns/{campaign_id}/test", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/campaigns/{campaign_id}/schedule", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/campaigns/{campaign_id}/cancel", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/sequences", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/calendar", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/segments", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/segments/{name}/count", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/segments/jobs/{job_id}", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/leads/search", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/leads/search/{job_id}", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/config", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/config/versions/{number}/diff", "console", "console", signed_in=True),
    ApiRoute("GET", "/v1/console/config/files", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/config/check", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/config/push", "console", "console", signed_in=True),
    ApiRoute("POST", "/v1/console/config/rollback", "console", "console", signed_in=True),
)
