"""The signing keyring's custom resource: CloudFormation cannot create an SSM SecureString parameter, this does.

Create: a SecureString parameter (the AWS-managed key aws/ssm, standard tier) holding a new random key, or the
keyring of the Secrets Manager secret named by `ImportFrom` (a stack that had one: its links keep verifying);
never over an existing parameter (Overwrite=False), whose keyring is kept as it is. Update: nothing, since a new
keyring would break every link already sent. Delete: nothing; the parameter outlives the stack, as the secret did,
because links in emails already sent must keep working. Inlined into its function (standard library and boto3).
"""

import base64
import contextlib
import json
import secrets
import urllib.request
from typing import Any

import boto3

DESCRIPTION = "Nurture: the keyring that signs tracking links (nurture keys rotate)"


def handler(event: dict[str, Any], context: Any) -> None:
    properties = event["ResourceProperties"]
    status, reason = "SUCCESS", ""
    try:
        if event["RequestType"] == "Create":
            create(properties["Name"], properties.get("ImportFrom", ""))
    except Exception as error:  # whatever it is, CloudFormation must hear of it, or it waits an hour
        status, reason = "FAILED", f"{type(error).__name__}: {str(error)[:300]}"  # AWS's messages hold no values
    respond(event, status, reason, physical_id=properties["Name"])


def create(name: str, import_from: str) -> None:
    if import_from:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=import_from)["SecretString"]
    else:  # one key, as `nurture keys rotate` reads it (the first key, k0)
        value = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    ssm = boto3.client("ssm")
    # One kept from before (a stack deleted and deployed again) stays: it verifies the links it signed.
    with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=False, Tier="Standard",
                          Description=DESCRIPTION)


def respond(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    body = json.dumps({"Status": status, "Reason": reason or "See the function's log",
                       "PhysicalResourceId": physical_id, "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"]}).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",  # noqa: S310 - CloudFormation's URL
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass
