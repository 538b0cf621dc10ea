"""Deployment settings: the `nurture:*` CDK context (cdk.json or `-c`), read once and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from aws_cdk import aws_logs as logs
from constructs import Node
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infra import paths
from nurture.config.models import CorsSettings
from nurture.config.records import validated
from nurture.topology import FunctionSpec

# What CloudWatch Logs accepts as a retention, in days (CDK's enum names them, not their days).
LOG_RETENTIONS = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS, 120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS, 1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS, 2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}


class DeploySettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    stack_name: str = Field("Nurture", alias="nurture:stackName", min_length=1)
    environment: str = Field("dev", alias="nurture:environment", min_length=1)
    sender_address: str = Field("news@example.com", alias="nurture:senderAddress", pattern=r"^[^@\s]+@[^@\s]+$")
    sender_identity: str = Field("", alias="nurture:senderIdentity",
                                 description="the verified SES identity; the address's domain when empty")
    # An SQS event source invokes at least two at a time; fewer reserved would throttle messages back to
    # the queue and on to its DLQ.
    sender_concurrency: int = Field(2, alias="nurture:senderConcurrency", ge=2, le=100)
    # SES's starting production quota; `aws sesv2 get-account` shows yours (SendQuota.MaxSendRate).
    ses_send_rate: float = Field(14, alias="nurture:sesSendRate", gt=0, le=1000)
    alarm_email: str = Field("", alias="nurture:alarmEmail")
    log_retention_days: int = Field(90, alias="nurture:logRetentionDays")
    # These two override config/api.yaml in the deployed config layer; unset, the file decides.
    allowed_origins: list[str] | None = Field(None, alias="nurture:allowedOrigins")
    event_retention_days: int | None = Field(None, alias="nurture:eventRetentionDays")
    dependencies_layer: Path = Field(paths.DEPENDENCIES_LAYER, alias="nurture:dependenciesLayer")
    # Off for an account whose Lambda concurrency is still low (a new account's may be 10): Lambda refuses any
    # reservation that leaves fewer than 100 unreserved. The sender keeps its own, which caps its send rate.
    reserved_concurrency: bool = Field(True, alias="nurture:reservedConcurrency")
    # CloudFront with an AWS WAF web ACL in front of the API; off by default, as the ACL costs every month.
    waf: bool = Field(False, alias="nurture:waf")
    # Requests one address may make in five minutes before WAF blocks it (WAF accepts 10 and up).
    waf_rate_limit: int = Field(2000, alias="nurture:wafRateLimit", ge=10, le=2_000_000_000)
    # X-Ray: off (PassThrough) by default. Lambda's Active tracing records every invocation whatever the sampling
    # rules, at $5 a million traces: half of what a tracking hit costs (docs/benchmarks.md).
    tracing: bool = Field(False, alias="nurture:tracing")
    # The HTTP API's access log: the Infrequent Access class (half the ingestion price; no metric filters or live
    # tail, which nothing here uses), the Standard class, or none.
    access_log: Literal["infrequent", "standard", "off"] = Field("infrequent", alias="nurture:accessLog")
    # The CloudWatch dashboard costs $3 a month whether anyone looks: off unless asked for. The alarms stand either
    # way, and `nurture report` tells the business.
    dashboard: bool = Field(False, alias="nurture:dashboard")
    # Where SES receives replies (docs/replies.md): every email's Reply-To is a signed address there, and a receipt
    # rule set stores and hands each reply to the replies function. Empty: no Reply-To, no receiving (its MX
    # record must point at SES first, or replies would bounce instead of reaching the From address).
    reply_domain: str = Field("", alias="nurture:replyDomain",
                              max_length=253,
                              pattern=r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    # A branded domain for the API (docs/deploy.md): the links in emails, the snippet's endpoint and the sales API
    # use it. Its certificate: the ARN of one in ACM in the stack's region, else one made and validated by DNS (in
    # the hosted zone when given, which also gets the domain's alias record).
    api_domain: str = Field("", alias="nurture:apiDomain", max_length=253,
                            pattern=r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    api_certificate_arn: str = Field("", alias="nurture:apiCertificateArn",
                                     pattern=r"^(arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+)?$")
    api_hosted_zone_id: str = Field("", alias="nurture:apiHostedZoneId", pattern=r"^(Z[A-Z0-9]{1,31})?$")
    api_hosted_zone_name: str = Field("", alias="nurture:apiHostedZoneName", max_length=253,
                                      pattern=r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    # A stack from before issue 20 kept its signing key in a Secrets Manager secret (the old `TokenSecretId`
    # output): the first deploy that creates the SSM keyring copies that keyring, so links already sent keep
    # verifying (docs/deploy.md). Read only when the parameter is created.
    signing_key_import_from: str = Field("", alias="nurture:signingKeyImportFrom",
                                         pattern=r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)?$")

    @model_validator(mode="after")
    def _a_domain_with_what_it_needs(self) -> DeploySettings:
        zone_given = bool(self.api_hosted_zone_id) + bool(self.api_hosted_zone_name)
        if not self.api_domain and (zone_given or self.api_certificate_arn):
            raise ValueError("nurture:apiCertificateArn and nurture:apiHostedZone* need nurture:apiDomain")
        if zone_given == 1:
            raise ValueError("nurture:apiHostedZoneId and nurture:apiHostedZoneName go together")
        if self.api_hosted_zone_name and not (self.api_domain == self.api_hosted_zone_name
                                              or self.api_domain.endswith("." + self.api_hosted_zone_name)):
            raise ValueError(f"nurture:apiDomain {self.api_domain} is not in the zone {self.api_hosted_zone_name}")
        if self.waf and self.api_certificate_arn and ":us-east-1:" not in self.api_certificate_arn:
            raise ValueError("nurture:apiCertificateArn: behind nurture:waf the domain is CloudFront's, which takes a "
                             "certificate in us-east-1 only")
        return self

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # `-c nurture:allowedOrigins=https://a.jp,https://b.jp` arrives as one string.
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str] | None) -> list[str] | None:
        return None if origins is None else validated(CorsSettings, {"allow_origins": origins}).allow_origins

    @field_validator("log_retention_days")
    @classmethod
    def _a_retention_cloudwatch_knows(cls, days: int) -> int:
        if days not in LOG_RETENTIONS:
            raise ValueError(f"CloudWatch Logs keeps logs for one of {sorted(LOG_RETENTIONS)} days")
        return days

    @classmethod
    def from_context(cls, node: Node) -> DeploySettings:
        aliases = [field.alias for field in cls.model_fields.values() if field.alias]
        unknown = sorted(key for key in node.get_all_context() if key.startswith("nurture:") and key not in aliases)
        if unknown:  # a misspelt setting must not leave the default in place unnoticed
            raise ValueError(f"Unknown deployment settings (CDK context): {', '.join(unknown)}; "
                             f"known: {', '.join(aliases)}")
        # cdk.json lists every key; an empty value there means "the default".
        given = {alias: value for alias in aliases if (value := node.try_get_context(alias)) not in (None, "")}
        try:
            return cls.model_validate(given)
        except ValidationError as error:
            problems = "; ".join(f"{problem['loc'][0]}: {problem['msg']}" if problem["loc"] else problem["msg"]
                                 for problem in error.errors())
            raise ValueError(f"Invalid deployment settings (CDK context): {problems}") from None

    @property
    def ses_identity(self) -> str:
        return self.sender_identity or self.sender_address.split("@")[-1]

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTIONS[self.log_retention_days]

    @property
    def api_overrides(self) -> dict[str, Any]:
        """What the deployment changes in config/api.yaml."""
        overrides: dict[str, Any] = {}
        if self.allowed_origins is not None:
            overrides["cors"] = {"allow_origins": self.allowed_origins}
        if self.event_retention_days is not None:
            overrides["event_retention_days"] = self.event_retention_days
        return overrides

    def reserved_concurrency_of(self, spec: FunctionSpec) -> int | None:
        """The sender's is always nurture:senderConcurrency (its pace depends on it); the others' come from the
        topology, unless nurture:reservedConcurrency is off."""
        if spec.name == "sender":
            return self.sender_concurrency
        return spec.reserved_concurrency if self.reserved_concurrency else None

    @property
    def sender_rate_per_instance(self) -> float:
        """Each sender instance paces itself to its share, so all of them together stay under SES's rate."""
        return self.ses_send_rate / self.sender_concurrency
