"""The AWS setup's problems as the CLI says them: no usable credentials, or credentials AWS refused (they can run
out while a command runs). Light to import: every command's error path reads it."""

from __future__ import annotations

import sys

from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from nurture.cli import exit_codes
from nurture.domain.errors import StoreUnavailable

# What AWS answers a caller whose credentials are not, or no longer, good.
REFUSED_CREDENTIALS = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                                 "UnrecognizedClientException", "SignatureDoesNotMatch", "RequestExpired"})
CREDENTIALS_HELP = "run `aws configure` or `aws sso login`, or name a profile with --profile (or AWS_PROFILE)"
CREDENTIAL_ERRORS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError,
                     SSOTokenLoadError, UnauthorizedSSOTokenError)


def aws_setup_problem(error: BaseException) -> str | None:
    """The one line to say when `error`, or the error it was raised from or while handling (an adapter's
    StoreUnavailable, Powertools' GetParameterError), is the AWS setup's (no usable credentials, refused ones),
    else None."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, CREDENTIAL_ERRORS):
            return f"No usable AWS credentials ({cause}): {CREDENTIALS_HELP}"
        if isinstance(cause, ClientError) and (
                code := cause.response.get("Error", {}).get("Code")) in REFUSED_CREDENTIALS:
            return f"AWS refused the credentials ({code}): {CREDENTIALS_HELP}"
        cause = cause.__cause__ or cause.__context__  # Powertools raises its own error without `from`
    return None


def store_unavailable(where: str, error: StoreUnavailable, code: int = exit_codes.BAD_INPUT) -> int:
    """What a command says when the system's store would not answer: the credentials' line and 253 when AWS
    refused them (they ran out while the command ran), else one line and `code`."""
    problem = aws_setup_problem(error)
    print(problem or f"{where}: {error}", file=sys.stderr)
    return exit_codes.AWS_SETUP if problem else code
