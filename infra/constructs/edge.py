"""nurture:waf: CloudFront in front of the HTTP API, with an AWS WAF web ACL that rate-limits each address.

AWS WAF cannot be associated with an HTTP API (REST APIs, CloudFront and load balancers can), so the ACL sits on
a distribution; an ACL for CloudFront must be made in us-east-1, whatever the stack's region (infra/app.py).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.constructs.nag import acknowledge

CLOUDFRONT_REGION = "us-east-1"
# CloudFront's "address:port" of the viewer: behind CloudFront the connection's address is CloudFront's own.
VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
# What the functions read of a request (nurture.http), and the viewer's address. Never Host: API Gateway answers
# only to its own.
FORWARDED_HEADERS = ["Content-Type", "Accept", "Origin", "Idempotency-Key", "User-Agent", "Referer",
                     VIEWER_ADDRESS_HEADER]
# The error statuses CloudFront caches for GET and HEAD, for ten seconds unless told otherwise: one visitor's
# error must never answer another's request.
CACHED_ERRORS = [400, 403, 404, 405, 414, 500, 501, 502, 503, 504]
FIVE_MINUTES = 300


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True)


# Paths the rate rule leaves alone: email opens, clicks and one-click unsubscribes come from mailbox
# providers' and security gateways' servers, many people behind one address, and a refused opt-out is a
# complaint. Their routes keep their own throttles.
EMAIL_LINK_PATHS = ["/v1/t/", "/v1/unsubscribe/"]


def _not_email_links() -> wafv2.CfnWebACL.StatementProperty:
    starts_with = [wafv2.CfnWebACL.StatementProperty(byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), positional_constraint="STARTS_WITH",
        search_string=path, text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0,
                                                                                               type="NONE")]))
        for path in EMAIL_LINK_PATHS]
    return wafv2.CfnWebACL.StatementProperty(not_statement=wafv2.CfnWebACL.NotStatementProperty(
        statement=wafv2.CfnWebACL.StatementProperty(or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=starts_with))))


class WebAcl(Construct):
    """Answers 429 to an address that sent more than `limit` requests in the last five minutes, until it slows."""

    def __init__(self, scope: Construct, construct_id: str, limit: int) -> None:
        super().__init__(scope, construct_id)
        name = Stack.of(self).stack_name
        self.acl = wafv2.CfnWebACL(
            self, "Acl", scope="CLOUDFRONT", description=f"{name}: requests per address",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow=wafv2.CfnWebACL.AllowActionProperty()),
            visibility_config=_visibility(f"{name}-requests"),
            rules=[wafv2.CfnWebACL.RuleProperty(
                name="RatePerAddress", priority=0,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP", limit=limit, evaluation_window_sec=FIVE_MINUTES,
                        scope_down_statement=_not_email_links())),
                action=wafv2.CfnWebACL.RuleActionProperty(block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(response_code=429))),
                visibility_config=_visibility(f"{name}-rate-per-address"),
            )],
        )

    @property
    def arn(self) -> str:
        return self.acl.attr_arn


class Edge(Construct):
    """The distribution every public request goes through: nothing cached, every method, the ACL on it."""

    def __init__(self, scope: Construct, construct_id: str, api: apigwv2.HttpApi, web_acl_arn: str,
                 domain: str = "", certificate: acm.ICertificate | None = None) -> None:
        """`domain` (nurture:apiDomain): the distribution's own name, with `certificate` (made in us-east-1, as
        CloudFront takes it)."""
        super().__init__(scope, construct_id)
        self.domain = domain
        stack = Stack.of(self)
        forward = cloudfront.OriginRequestPolicy(
            self, "Forward", comment="Nurture API: what its functions read, and the viewer's address",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*FORWARDED_HEADERS),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none())
        self.distribution = cloudfront.Distribution(
            self, "Distribution", comment=f"{stack.stack_name} API", web_acl_id=web_acl_arn,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin(f"{api.api_id}.execute-api.{stack.region}.{stack.url_suffix}",
                                          protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                                          origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2]),
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=forward,
                # As the API itself: it does not listen on plain HTTP either.
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            ),
            error_responses=[cloudfront.ErrorResponse(http_status=status, ttl=Duration.seconds(0))
                             for status in CACHED_ERRORS],
            domain_names=[domain] if domain else None, certificate=certificate if domain else None,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if domain else None,
        )
        distribution = Validations.of(self.distribution)
        acknowledge(distribution, "AwsSolutions-CFR1",
                    "Forms and tracking serve visitors wherever a customer's site has them; no country is excluded.")
        acknowledge(distribution, "AwsSolutions-CFR3",
                    "Every request CloudFront passes on is in the API's access log, and the web ACL's metrics and "
                    "sampled requests show what it blocked; standard logs would add an ACL-enabled S3 bucket for "
                    "the same lines.")
        if not domain:  # with one, the distribution's own certificate takes TLSv1.2_2021
            acknowledge(distribution, "AwsSolutions-CFR4",
                        "The distribution answers on CloudFront's own *.cloudfront.net certificate, whose TLS policy "
                        "CloudFront sets; choosing TLSv1.2_2021 needs a custom domain and its certificate "
                        "(nurture:apiDomain).")

    def alias_target(self) -> route53.RecordTarget:
        return route53.RecordTarget.from_alias(targets.CloudFrontTarget(self.distribution))

    @property
    def url(self) -> str:
        """The public base URL, shaped as the API stage's (https://host/)."""
        return f"https://{self.domain or self.distribution.distribution_domain_name}/"
