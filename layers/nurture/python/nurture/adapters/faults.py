"""Injected AWS faults, for the reliability tests: DynamoDB, SQS and SES answer an HTTP attempt with
throttling or a 5xx at a given rate, before the request leaves the client.

The fault replaces one attempt's answer, so the SDK's own retries see it first (SES sends are never
retried by the SDK: there the fault reaches the sender). A throttled request was not acted on; a 5xx
answers a request the service did carry out (the worst case: a retry repeats a write that landed). Off unless a
test or `nurture simulate --faults` switches it on; nothing in a deployed function does.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from botocore.awsrequest import AWSResponse
from msgspec import Struct

SERVICES = frozenset({"dynamodb", "sqs", "sesv2"})


class FaultPlan(Struct, frozen=True):
    rate: float  # share of HTTP attempts that fail
    seed: int = 0


class _Body:
    """The raw body botocore reads an error from."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


# (status, headers, body) per service: the shapes each protocol's parser reads an error code from.
Answer = tuple[int, dict[str, str], bytes]
THROTTLED: dict[str, Answer] = {
    "dynamodb": (400, {}, b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"injected"}'),
    "sqs": (400, {"x-amzn-query-error": "ThrottlingException;Sender"},
            b'{"__type":"com.amazonaws.sqs#ThrottlingException","message":"injected"}'),
    "sesv2": (429, {"x-amzn-ErrorType": "TooManyRequestsException"}, b'{"message":"injected"}'),
}
UNAVAILABLE: Answer = (503, {}, b"")
NOWHERE = "https://fault-injected.invalid/"


class FaultInjector:
    """Counts what it injected, per service: a test can tell that faults really happened."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan
        # One sequence per service: which SQS or SES attempts fail does not shift when the code makes more or
        # fewer DynamoDB calls (reproducible faults, not security).
        self._random = {service: random.Random(f"{plan.seed}:{service}") for service in SERVICES}  # noqa: S311
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        if service in SERVICES:
            # First, so the emulator's own handler (registered when the client was made) never sees it.
            client.meta.events.register_first("before-send", lambda request, **_: self._answer(service, request))

    def _answer(self, service: str, request: Any) -> AWSResponse | None:
        with self._lock:
            draw = self._random[service]
            if draw.random() >= self.plan.rate:
                return None
            # SES only throttles here: its 5xx may mean "sent", and the sender never sends those again
            # (at most once), which would make the faulty run differ by design.
            throttle = service == "sesv2" or draw.random() < 0.5
            self.injected[service] = self.injected.get(service, 0) + 1
        status, headers, body = THROTTLED[service] if throttle else UNAVAILABLE
        answer = AWSResponse(request.url, status, {"content-type": "application/x-amz-json-1.0", **headers},
                             _Body(body))
        if throttle:
            # A throttled request was never acted on. The emulator still sees every request (botocore
            # asks all before-send handlers), so it is pointed where no emulated service answers.
            request.url = NOWHERE
        return answer
