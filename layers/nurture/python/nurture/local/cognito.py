"""The console's users on the emulator's Cognito, and the check the HTTP API's JWT authorizer makes in AWS.

`make run` creates the user pool with the console's groups and an app client, and one user per group (the sales
user is config/sales.yaml's tanaka, whose leads they see). The password is for this machine only; it is printed
at start and documented in docs/console.md."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from nurture.domain.console.access import GROUPS, Group
from nurture.domain.console.page import SETTINGS_FILE, page_settings
from nurture.local.gateway import Page

CONSOLE_PATH = "/console/"
CONSOLE_SETTINGS = f"{CONSOLE_PATH}{SETTINGS_FILE}"  # where the console finds its Cognito (AWS: beside it on S3)
POOL_NAME = "nurture-local-console"
CLIENT_NAME = "console"
LOCAL_PASSWORD = "Nurture-local-1"  # noqa: S105 - the emulator's users only: documented, never deployed
USERS: dict[Group, str] = {"admin": "admin@nurture.example", "marketer": "marketer@nurture.example",
                           "sales": "tanaka@example.co.jp"}


@dataclass(frozen=True)
class ConsolePool:
    pool_id: str
    client_id: str
    region: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


def create_console_pool(session: Any) -> ConsolePool:
    """The pool, its groups, its app client and a user per group, if missing."""
    cognito = session.client("cognito-idp")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == POOL_NAME), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(PoolName=POOL_NAME, UsernameAttributes=["email"],
                                           AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((client["ClientId"] for client in clients if client["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=CLIENT_NAME, GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    existing = {group["GroupName"] for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    for group in set(GROUPS) - existing:
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    for group, email in USERS.items():
        try:
            cognito.admin_get_user(UserPoolId=pool_id, Username=email)
            continue
        except cognito.exceptions.UserNotFoundException:
            pass
        cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": email},
                                                  {"Name": "email_verified", "Value": "true"}])
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=LOCAL_PASSWORD, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    return ConsolePool(pool_id, client_id, session.region_name)


class TokenCheck:
    """What API Gateway's JWT authorizer checks of `Authorization: Bearer <ID token>`: the signature against the
    pool's keys, the issuer, the audience (the console's app client) and the expiry."""

    def __init__(self, pool: ConsolePool, emulator_url: str) -> None:
        self.pool = pool
        self._keys_url = f"{emulator_url}/{pool.pool_id}/.well-known/jwks.json"
        self._keys: KeySet | None = None

    def __call__(self, authorization: str | None) -> dict[str, Any] | None:
        """The token's claims, or None for a request the authorizer would answer 401."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            decoded = jwt.decode(token.strip(), self._key_set())
        except (JoseError, ValueError):
            return None
        claims = dict(decoded.claims)
        if claims.get("iss") != self.pool.issuer or claims.get("aud") != self.pool.client_id \
                or not isinstance(claims.get("exp"), int | float) or claims["exp"] <= time.time():
            return None
        return claims

    def _key_set(self) -> KeySet:
        if self._keys is None:
            # The emulator answers for Cognito by the Host header, as Cognito's own endpoint would.
            host = {"Host": f"cognito-idp.{self.pool.region}.amazonaws.com"}
            request = urllib.request.Request(self._keys_url, headers=host)  # noqa: S310 - the emulator's own URL
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                self._keys = KeySet.import_key_set(json.loads(answer.read()))
        return self._keys


def console_settings(pool: ConsolePool, emulator_url: str) -> Page:
    """What the console needs to sign in: the region, the app client, and where Cognito answers (the emulator)."""
    body = page_settings(pool.region, pool.client_id, emulator_url)
    return Page(200, "application/json", json.dumps(body).encode(), {"Cache-Control": "no-store"})

