"""The AWS setup's problems found behind the errors the CLI's stores raise."""

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError, NoCredentialsError

from nurture.cli.aws_setup import aws_setup_problem
from nurture.domain.errors import StoreUnavailable


def raised_while_handling(first: Exception, then: Exception, chained: bool) -> Exception:
    try:
        try:
            raise first
        except Exception as error:
            if chained:
                raise then from error
            raise then  # noqa: B904 - as Powertools raises its GetParameterError
    except Exception as caught:
        return caught
    raise AssertionError("unreachable")


@pytest.mark.parametrize("chained", [True, False])
def test_credentials_refused_behind_a_stores_error_are_the_aws_setups_problem(chained):
    refused = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetParameter")
    wrapped = raised_while_handling(refused, GetParameterError("An error occurred (ExpiredToken)"), chained)
    assert "AWS refused the credentials (ExpiredToken)" in (aws_setup_problem(wrapped) or "")
    missing = raised_while_handling(NoCredentialsError(), StoreUnavailable("DynamoDB call failed"), chained)
    assert (aws_setup_problem(missing) or "").startswith("No usable AWS credentials")


def test_any_other_failure_is_not_the_aws_setups():
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")
    assert aws_setup_problem(raised_while_handling(throttled, StoreUnavailable("busy"), True)) is None
    assert aws_setup_problem(ValueError("x")) is None
