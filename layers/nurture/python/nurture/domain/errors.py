"""Domain errors. The HTTP layer maps each to a problem+json response in one place."""

from __future__ import annotations

from msgspec import Struct


class FieldProblem(Struct, frozen=True):
    """One thing wrong with one input field: `code` is stable for machines, `message` is for people."""

    field: str
    code: str
    message: str


class NurtureError(Exception):
    """Base of every error Nurture raises on purpose."""


class InputError(NurtureError):
    """The client sent something we will not store. Maps to a 4xx; never retried."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, problems: list[FieldProblem] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


class MalformedBody(InputError):
    status = 400
    slug = "malformed-body"
    title = "The request body could not be parsed"


class InvalidToken(InputError):
    status = 400
    slug = "invalid-token"
    title = "The link is invalid"


class UnknownForm(InputError):
    status = 404
    slug = "unknown-form"
    title = "No such form"


class LeadNotFound(InputError):
    status = 404
    slug = "lead-not-found"
    title = "No such lead"


class AccountNotFound(InputError):
    status = 404
    slug = "account-not-found"
    title = "No such account"


class MergeRefused(InputError):
    """Accounts that cannot be merged or split so (into itself, into a merged one, one not merged)."""

    status = 409
    slug = "merge-refused"
    title = "The accounts cannot be merged or split so"


class TaskNotFound(InputError):
    status = 404
    slug = "task-not-found"
    title = "No such task"


class TaskClosed(InputError):
    status = 409
    slug = "task-closed"
    title = "The task is closed"


class CampaignNotFound(InputError):
    status = 404
    slug = "campaign-not-found"
    title = "No such campaign"


class SegmentNotFound(InputError):
    status = 404
    slug = "segment-not-found"
    title = "No such segment"


class JobNotFound(InputError):
    status = 404
    slug = "job-not-found"
    title = "No such job"


class VersionNotFound(InputError):
    status = 404
    slug = "version-not-found"
    title = "No such config version"


class ChangeRefused(InputError):
    status = 409
    slug = "change-refused"
    title = "The change does not apply to the state it would change"


class LeadUnsubscribed(InputError):
    status = 409
    slug = "lead-unsubscribed"
    title = "The lead left every email"


class PayloadTooLarge(InputError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class UnsupportedMediaType(InputError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported content type"


class NotSignedIn(InputError):
    status = 401
    slug = "not-signed-in"
    title = "Not signed in"


class Forbidden(InputError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class ValidationFailed(InputError):
    status = 422
    slug = "validation-failed"
    title = "Some fields are missing or invalid"


class LeadGone(NurtureError):
    """The lead was erased: what still arrives for it (an old email's pixel or link) is dropped."""


class WriteConflict(NurtureError):
    """Another request changed the same items between our read and our write: read again and retry."""


class StoreUnavailable(NurtureError):
    """The data store could not be reached or kept throttling: safe for the client to retry."""


class ConfigInvalid(NurtureError):
    """Marketer configuration failed validation; `problems` lists every problem with its location."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class SendDeferred(NurtureError):
    """Not now (SES throttling, a setup or account problem, another sender mid-send): the message returns
    to the queue. `maybe_sent`: SES may have accepted it (a timeout, a 5xx), so it must not be sent again."""

    def __init__(self, reason: str, maybe_sent: bool = False):
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class SendRejected(NurtureError):
    """SES refused this email for good: recorded on the lead, never retried."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
