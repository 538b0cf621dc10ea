"""Where the marketer's console is served in AWS: its files in a private bucket, read by CloudFront through origin
access control, and its API on the same origin (/v1/console/* passed on to the HTTP API), every answer with the
page's security headers (nurture.domain.console.page, which the local gateway sends too).

The files are uploaded by `nurture console publish`, after `cdk deploy`: it writes the page's settings (the
region, the app client) from the stack's outputs. Doing it in the deploy would need a custom resource (CDK's
BucketDeployment, a Lambda function with wide S3 rights) for three small files."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from constructs import Construct

from infra.constructs.buckets import private_bucket
from infra.constructs.edge import CACHED_ERRORS
from infra.constructs.nag import acknowledge
from nurture.domain.console.page import HSTS_SECONDS, cognito_endpoint, content_security_policy
from nurture.topology import CONSOLE_API_PATTERN


class ConsoleSite(Construct):
    """`web_acl_arn`: nurture:waf's ACL, on this distribution too when there is one."""

    def __init__(self, scope: Construct, construct_id: str, api: apigwv2.HttpApi, web_acl_arn: str | None) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Nothing in it that `nurture console publish` cannot write again: kept with the stack's other buckets.
        self.bucket = private_bucket(self, "Files", removal_policy=RemovalPolicy.RETAIN)
        acknowledge(Validations.of(self.bucket), "AwsSolutions-S1",
                    "Only CloudFront reads it, three public files of the console's page; the operator's uploads "
                    "are in CloudTrail.")
        headers = cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders", comment="Nurture console: its own files and Cognito, nothing else",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(cognito_endpoint(stack.region)), override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_SECONDS), include_subdomains=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True)))
        api_origin = origins.HttpOrigin(f"{api.api_id}.execute-api.{stack.region}.{stack.url_suffix}",
                                        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                                        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2])
        # The console's API: never cached, every header but Host passed on (the token in Authorization; with
        # caching off CloudFront may pass it without putting it in a cache key).
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin, allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY, response_headers_policy=headers)
        self.distribution = cloudfront.Distribution(
            self, "Distribution", comment=f"{stack.stack_name} console", web_acl_id=web_acl_arn,
            default_root_object="index.html",
            # The files are uploaded with Cache-Control: no-cache, so a publish shows at the next visit.
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=headers),
            additional_behaviors={CONSOLE_API_PATTERN: api_behavior},
            # One user's error (a 403 for a group without the right) must never answer another's request.
            error_responses=[cloudfront.ErrorResponse(http_status=status, ttl=Duration.seconds(0))
                             for status in CACHED_ERRORS],
        )
        distribution = Validations.of(self.distribution)
        acknowledge(distribution, "AwsSolutions-CFR1",
                    "Marketers and sales sign in from wherever they work; Cognito's sign-in is what keeps others out.")
        if web_acl_arn is None:
            acknowledge(distribution, "AwsSolutions-CFR2",
                        "Without nurture:waf there is no web ACL to attach; every console route needs a Cognito token "
                        "the HTTP API's JWT authorizer checks, and the stage's throttles apply.")
        acknowledge(distribution, "AwsSolutions-CFR3",
                    "Every API call it passes on is in the API's access log; the page's three files carry nothing "
                    "worth a standard log's ACL-enabled bucket.")
        acknowledge(distribution, "AwsSolutions-CFR4",
                    "The distribution answers on CloudFront's own *.cloudfront.net certificate, whose TLS policy "
                    "CloudFront sets; a custom domain and its certificate are issue 25's.")

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}/"
