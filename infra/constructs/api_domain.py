"""A branded domain for the HTTP API (nurture:apiDomain): every link an email carries, the snippet's endpoint and
the sales API answer there instead of at *.execute-api.amazonaws.com, which matches no From domain and looks like
phishing to people and to filters. Its certificate is ACM's, validated by DNS: in the hosted zone when one is
given (with the domain's alias record), else by the record the operator adds while the deploy waits
(docs/deploy.md)."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct


def hosted_zone(scope: Construct, zone_id: str, zone_name: str) -> route53.IHostedZone | None:
    """The operator's Route 53 zone the domain is in (nurture:apiHostedZoneId and Name), if given."""
    return route53.HostedZone.from_hosted_zone_attributes(scope, "Zone", hosted_zone_id=zone_id,
                                                          zone_name=zone_name) if zone_id else None


def domain_certificate(scope: Construct, domain: str, certificate_arn: str = "",
                       zone: route53.IHostedZone | None = None) -> acm.ICertificate:
    """The operator's certificate for `domain`, else one ACM makes and validates by DNS: in the zone when given,
    else by the record the operator adds while the deploy waits. In the region of `scope`'s stack (us-east-1 for
    CloudFront)."""
    if certificate_arn:
        return acm.Certificate.from_certificate_arn(scope, "Certificate", certificate_arn)
    return acm.Certificate(scope, "Certificate", domain_name=domain,
                           validation=acm.CertificateValidation.from_dns(zone))


class ApiDomain(Construct):
    """The domain on the HTTP API itself (without nurture:waf; behind it the domain is CloudFront's: Edge)."""

    def __init__(self, scope: Construct, construct_id: str, api: apigwv2.HttpApi, stage: apigwv2.HttpStage,
                 domain: str, certificate_arn: str = "", zone: route53.IHostedZone | None = None) -> None:
        super().__init__(scope, construct_id)
        certificate = domain_certificate(self, domain, certificate_arn, zone)
        self.domain = apigwv2.DomainName(self, "DomainName", domain_name=domain, certificate=certificate,
                                         security_policy=apigwv2.SecurityPolicy.TLS_1_2)
        apigwv2.ApiMapping(self, "Mapping", api=api, domain_name=self.domain, stage=stage)
        self.url = f"https://{domain}/"

    def alias_target(self) -> route53.RecordTarget:
        return route53.RecordTarget.from_alias(targets.ApiGatewayv2DomainProperties(
            self.domain.regional_domain_name, self.domain.regional_hosted_zone_id))


def domain_alias(scope: Construct, zone: route53.IHostedZone, domain: str, target: route53.RecordTarget) -> None:
    """The domain's one alias record, wherever it points (the API's domain, or CloudFront behind WAF): one id, so
    turning nurture:waf on or off updates the record in place instead of making a second one for the same name,
    which Route 53 refuses."""
    route53.ARecord(scope, "ApiDomainAlias", zone=zone, record_name=domain, target=target)
