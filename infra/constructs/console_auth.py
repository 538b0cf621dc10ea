"""Who may use the marketer's console: a Cognito user pool with its groups, the console's app client, and the JWT
authorizer the HTTP API puts in front of the console's routes."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs.nag import acknowledge
from nurture.domain.console.access import GROUPS

TOKEN_HOURS = 1  # an ID token's life: a stolen one is good for an hour; the console refreshes it


class ConsoleAuth(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # People are invited by an admin (no sign-up); they sign in with their email address.
        self.user_pool = cognito.UserPool(
            self, "Users", user_pool_name=None, self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True), auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(min_length=12, require_lowercase=True, require_uppercase=True,
                                                   require_digits=True, require_symbols=True,
                                                   temp_password_validity=Duration.days(3)),
            mfa=cognito.Mfa.OPTIONAL, mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY, removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(Validations.of(self.user_pool), "AwsSolutions-COG2",
                    "MFA is optional and by authenticator app: an admin can make it required in the pool's "
                    "settings; a marketing team's first sign-in must not need a phone the pool would text.")
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(Validations.of(self.user_pool), rule,
                        "Threat protection needs the Plus feature plan, paid per monthly active user; the console "
                        "has a few invited users, no sign-up, a strong password policy and optional MFA.")
        for group in GROUPS:
            cognito.CfnUserPoolGroup(self, f"{group.capitalize()}Group", user_pool_id=self.user_pool.user_pool_id,
                                     group_name=group, description=f"Nurture console: {group}")
        # The console signs in with the user's password over TLS (USER_PASSWORD_AUTH): the same flow on the local
        # emulator, which has no hosted login pages (docs/decisions.md).
        self.client = self.user_pool.add_client(
            "Console", generate_secret=False, prevent_user_existence_errors=True,
            auth_flows=cognito.AuthFlow(user_password=True), id_token_validity=Duration.hours(TOKEN_HOURS),
            # A user may not change their own email address: it is who they are to config/sales.yaml.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True, locale=True),
            access_token_validity=Duration.hours(TOKEN_HOURS), refresh_token_validity=Duration.days(1),
        )
        self.authorizer = authorizers.HttpUserPoolAuthorizer("ConsoleAuthorizer", self.user_pool,
                                                             user_pool_clients=[self.client])
