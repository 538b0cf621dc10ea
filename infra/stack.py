"""Nurture's stack: composes one construct per concern."""

from __future__ import annotations

from aws_cdk import CfnOutput, CrossStackReferences, Environment, ReferenceStrength, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct

from infra import paths
from infra.constructs.alerts import Alerts
from infra.constructs.api_domain import ApiDomain, domain_alias, hosted_zone
from infra.constructs.audience_scan import AudienceScan
from infra.constructs.config_store import ConfigStore
from infra.constructs.console_auth import ConsoleAuth
from infra.constructs.console_site import ConsoleSite
from infra.constructs.data import Data
from infra.constructs.dispatch_schedule import DispatchSchedule, SendQueue
from infra.constructs.edge import VIEWER_ADDRESS_HEADER, Edge, WebAcl
from infra.constructs.email_sending import EmailSending
from infra.constructs.function import NurtureFunction, construct_name
from infra.constructs.materials import Materials
from infra.constructs.monitoring import Monitoring
from infra.constructs.public_api import PublicApi
from infra.constructs.queues import DeadLetters, HandoffQueue
from infra.constructs.replies import ReplyReceiving
from infra.constructs.sales_access import SalesAccess
from infra.constructs.ses_events import SesEvents
from infra.constructs.shared_code import SharedCode
from infra.constructs.stream_consumer import StreamConsumer
from infra.constructs.tracking_key import TrackingKey
from infra.settings import DeploySettings
from nurture import keys
from nurture.topology import (
    FUNCTIONS,
    OUTPUT_API_URL,
    OUTPUT_AUDIENCE_QUEUE,
    OUTPUT_CONFIG_BUCKET,
    OUTPUT_CONFIGURATION_SET,
    OUTPUT_CONSOLE_BUCKET,
    OUTPUT_CONSOLE_CLIENT,
    OUTPUT_CONSOLE_URL,
    OUTPUT_CONSOLE_USER_POOL,
    OUTPUT_DEPLOYED_CONFIG,
    OUTPUT_HANDOFF_QUEUE,
    OUTPUT_MATERIALS_BUCKET,
    OUTPUT_SENDER_ADDRESS,
    OUTPUT_SIGNING_KEY_PARAMETER,
    OUTPUT_TABLE,
    OUTPUT_WEBHOOK_PARAMETERS,
    ROUTES,
)

# The DynamoDB actions each function's code makes (see the adapters), and nothing more.
TABLE_ACTIONS = {
    # No BatchWriteItem for the functions that write what visitors send: it can delete any item. Erasure, in the
    # sales API, deletes any lead (the console's, an admin's, only the keys an erasure touches: CONSOLE_ERASURE); the
    # dispatcher deletes only leads' own items (UNCONFIRMED_REMOVAL).
    "forms": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
              "dynamodb:Query"],
    "tracking": ["dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
    "scoring": ["dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"],
    # Query and BatchGetItem: a hot lead's account and its people, for the handoff message.
    "handoff": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchGetItem"],
    # ConditionCheckItem: offline activity is written only while its lead exists.
    # BatchGetItem: a list page's profiles (the rank and owner indexes hold keys only).
    "sales_api": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem",
                  "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                  "dynamodb:BatchGetItem"],
    # GetItem: the guard's pause flag, a scan's job. DescribeTable: how many profiles there are, to size a scan.
    # BatchGetItem: the verdict deadlines due (chase_verdicts), an A/B test's counters (its winner).
    "dispatcher": ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DescribeTable", "dynamodb:BatchGetItem"],
    # Transactions need the action of each item they write: UpdateItem, PutItem. Query: whether SES reported a
    # message a stale marker left in doubt. ConditionCheckItem: a seminar registration only while its lead exists.
    "sender": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
               "dynamodb:ConditionCheckItem"],
    # ConditionCheckItem: an event is written only while its lead exists.
    "ses_events": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                   "dynamodb:ConditionCheckItem"],
    # Its reads are Scans of the table's profiles (AudienceScan); what it writes is in CAMPAIGN_ITEMS.
    "audience": [],
    "notifier": [],  # its alert markers only: ALERT_MARKERS
    "replies": [],  # on leads' items, an address's claim and its suppression entry only: REPLY_ITEMS
    # Its reads: a lead's items and whether its address is suppressed, a list page's profiles (its indexes are
    # INDEX_READS); its writes are on the keys of CONSOLE_* below only.
    # DescribeTable: how many profiles there are, to size a segment count's parts.
    "console": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"],
}
# Actions on campaigns' and scans' items only (their partition keys): a starting campaign's state and its scan's
# parts (dispatcher), a part's progress and the campaign's state (audience). Neither can touch a lead.
CAMPAIGN_ITEMS = {"dispatcher": ["dynamodb:PutItem"], "audience": ["dynamodb:UpdateItem", "dynamodb:GetItem"]}
CAMPAIGN_KEYS = [keys.campaign_pk("*"), keys.job_pk("*")]
# The dispatcher removes double opt-in leads never confirmed: a marker, then the lead's and its browsers' items and
# its address's claim. Never a suppression entry, a campaign, a counter or a duplicate guard. The same grants on
# leads' items serve the customers' reviews (a customer's purchases read, its review entry and segment move written).
UNCONFIRMED_REMOVAL = {"dispatcher": ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]}
UNCONFIRMED_REMOVAL_KEYS = [keys.lead_pk("*"), keys.visitor_pk("*"), keys.email_claim_pk("*")]
# The notifier reads a lead's profile (still there?) and writes its alert markers: items under leads only.
ALERT_MARKERS = {"notifier": ["dynamodb:GetItem", "dynamodb:PutItem"]}
ALERT_MARKER_KEYS = [keys.lead_pk("*")]
# A reply (mail from anyone on the internet) touches its lead's items (the send marker and activity it answers, its
# own activity while the lead exists, an opt-out's choice), an address's claim (the lead a reply without its tag
# came from) and, for an opt-out from everything, the address's suppression entry: nothing else in the table.
REPLY_ITEMS = {"replies": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                           "dynamodb:ConditionCheckItem"]}
REPLY_KEYS = [keys.lead_pk("*"), keys.email_claim_pk("*"), keys.suppression_pk("*")]
# Seminar places, under events' keys only: a registration's page deletes the registration it cancels and its
# waitlist place (tracking); a promotion deletes the waitlist place it fills (sender). Neither can delete a lead's.
SEMINAR_PLACE_DELETES = {"tracking": ["dynamodb:DeleteItem"], "sender": ["dynamodb:DeleteItem"]}
SEMINAR_PLACE_KEYS = [keys.event_pk("*")]
# The console's changes, each with its record (AUDIT#) in one transaction: a campaign's state (schedule, cancel)
# and lifting the deliverability guard's pause; an admin's erasure below. A segment's count is a scan job (JOB#).
CONSOLE_CAMPAIGN_CHANGES = {"console": ["dynamodb:PutItem"]}
CONSOLE_CAMPAIGN_KEYS = [keys.campaign_pk("*"), keys.audit_pk("*"), keys.job_pk("*")]
CONSOLE_RESUME = {"console": ["dynamodb:DeleteItem"]}
CONSOLE_RESUME_KEYS = [keys.GUARD_PK]
# An admin's erasure from the console, as the sales API's (LeadStore.erase), with its record; each action on the keys
# it needs only: the erasure marker and a browser's tombstone put; a lead's items, its address's claim, its seminar
# places and its account's state when no one is left deleted; the suppression entry, the owner's open count, a
# session's seat count and its account's state (the lead forgotten) updated, never deleted (a deleted suppression
# entry would mail someone who opted out).
CONSOLE_ERASURE = [
    ({"console": ["dynamodb:PutItem"]}, [keys.lead_pk("*"), keys.visitor_pk("*"), keys.audit_pk("*")]),
    ({"console": ["dynamodb:DeleteItem"]}, [keys.lead_pk("*"), keys.email_claim_pk("*"), keys.event_pk("*"),
                                            f"{keys.ACCOUNT_PREFIX}*"]),
    ({"console": ["dynamodb:UpdateItem"]}, [keys.suppression_pk("*"), keys.owner_pk("*"), keys.event_pk("*"),
                                            f"{keys.ACCOUNT_PREFIX}*"]),
]
# A lead given to another owner from the console, as the sales API gives it (reassign): the profile updated; its
# activity, verdict deadline, the owners' open counts and the change's record under the keys above.
CONSOLE_REASSIGNMENT = ({"console": ["dynamodb:UpdateItem"]}, [keys.lead_pk("*")])
# A lead's place among its company's people (ACCOUNT#…/MEMBER#…): the scorer moves it when the lead's company
# changes, checking that the account it joins was not merged meanwhile (ConditionCheckItem). GetItem and Query: an
# account's pattern state and its people, read to tell it and store its standing.
ACCOUNT_MEMBERSHIP = ({"scoring": ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query",
                                   "dynamodb:ConditionCheckItem"]}, [f"{keys.ACCOUNT_PREFIX}*"])
# A segment on the lead's company reads the standing of the accounts of the profiles it judges: a scan's page's
# (audience) and a campaign email's lead's, checked again before it is sent (sender).
ACCOUNT_STANDING_READS = ({"audience": ["dynamodb:BatchGetItem"], "sender": ["dynamodb:BatchGetItem"]},
                          [f"{keys.ACCOUNT_PREFIX}*"])
# The sweep after an erasure (the console's) or a removal of an unconfirmed lead (the dispatcher's) deletes the
# lead's and its browsers' items and its place in its account in batches: one statement covers every key a batch
# may hold, as IAM checks a batch's keys together.
SWEEP = ({"console": ["dynamodb:BatchWriteItem"], "dispatcher": ["dynamodb:BatchWriteItem"]},
         [keys.lead_pk("*"), keys.visitor_pk("*"), f"{keys.ACCOUNT_PREFIX}*"])
API_FUNCTIONS = {route.function for route in ROUTES}
# Indexes a function queries, beside the table itself.
INDEX_READS = {"sales_api": ["by_rank", "by_owner"], "console": ["by_rank", "by_owner"], "dispatcher": ["due"]}


ENVIRONMENT_TAG = "nurture:environment"  # which deployment a resource belongs to (cost reports, filters)


class NurtureStack(Stack):
    """With `web_acl` (nurture:waf) the public API is served through CloudFront, behind that ACL."""

    def __init__(self, scope: Construct, construct_id: str, settings: DeploySettings, web_acl: WebAcl | None = None,
                 env: Environment | None = None, edge_certificate: acm.ICertificate | None = None) -> None:
        """`edge_certificate`: with nurture:waf and nurture:apiDomain, the domain's certificate in us-east-1."""
        # The stack's own tag too (CloudFormation gives it to what it tags from the stack): with
        # @aws-cdk/core:explicitStackTags, Tags.of(app) reaches the resources only.
        super().__init__(scope, construct_id, description="Nurture: B2B lead nurturing", env=env,
                         tags={ENVIRONMENT_TAG: settings.environment})
        if web_acl is not None:
            # The ACL's ARN comes from us-east-1 through CloudFormation's Fn::GetStackOutput: no custom resources
            # to carry it, and WAF itself refuses to delete an ACL a distribution still uses.
            CrossStackReferences.of(self).consume(ReferenceStrength.WEAK)
        data = Data(self, "Data")
        key = TrackingKey(self, "TrackingKey", settings.log_retention, settings.signing_key_import_from)
        code = SharedCode(self, "SharedCode", settings.dependencies_layer, settings.api_overrides)
        handoff = HandoffQueue(self, "Handoff")
        dead_letters = DeadLetters(self, "DeadLetters").queue
        config = ConfigStore(self, "ConfigStore", code.config_dir)
        environment = {"TABLE_NAME": data.table.table_name, "SIGNING_KEY_PARAMETER": key.parameter_name,
                       "CONFIG_BUCKET": config.bucket.bucket_name}
        # Behind CloudFront a request's connection is CloudFront's: the client's address comes in this header.
        client_ip = {"CLIENT_IP_HEADER": VIEWER_ADDRESS_HEADER} if web_acl is not None else {}
        materials = Materials(self, "Materials", paths.CONFIG)
        send = SendQueue(self, "Send", dead_letters)
        audience = AudienceScan(self, "AudienceScan", dead_letters)
        # The download link hands out a material: pushed to the bucket, else as the deploy shipped it. The console
        # queues a campaign's test email for the sender.
        api_only = {"tracking": {"MATERIALS_BUCKET": materials.bucket.bucket_name,
                                 "SHIPPED_MATERIALS": materials.shipped_locations},
                    "console": {"SEND_QUEUE_URL": send.queue.queue_url,
                                "AUDIENCE_QUEUE_URL": audience.queue.queue_url}}
        api_functions = {name: NurtureFunction(self, f"{construct_name(name)}Function", spec, code,
                                               {**environment, **client_ip, **api_only.get(name, {})},
                                               settings.log_retention,
                                               reserved_concurrency=settings.reserved_concurrency_of(spec),
                                               tracing=settings.tracing)
                         for name, spec in FUNCTIONS.items() if name in API_FUNCTIONS}
        console = ConsoleAuth(self, "ConsoleAuth")
        api = PublicApi(self, "Api", api_functions, settings.log_retention, console.authorizer, settings.access_log)
        # The branded domain is the API's own, or behind WAF the distribution's (sales tooling then signs for the
        # API's endpoint: CloudFront cannot pass a SigV4 request on).
        zone = hosted_zone(self, settings.api_hosted_zone_id, settings.api_hosted_zone_name)
        api_url, public_url = api.url, api.url
        alias: route53.RecordTarget | None = None
        if web_acl is not None:
            edge = Edge(self, "Edge", api.api, web_acl.arn, settings.api_domain, edge_certificate)
            public_url, alias = edge.url, edge.alias_target()
            if settings.api_domain:
                CfnOutput(self, "DistributionDomainName", value=edge.distribution.distribution_domain_name,
                          description="Where the branded domain's DNS record points (a CNAME without a hosted zone)")
        elif settings.api_domain:
            branded = ApiDomain(self, "ApiDomain", api.api, api.stage, settings.api_domain,
                                settings.api_certificate_arn, zone)
            api_url = public_url = branded.url
            alias = branded.alias_target()
        if settings.api_domain and zone is not None and alias is not None:
            domain_alias(self, zone, settings.api_domain, alias)
        console_site = ConsoleSite(self, "ConsoleSite", api.api, web_acl.arn if web_acl is not None else None)
        alerts = Alerts(self, "Alerts", dead_letters)
        email = EmailSending(self, "EmailSending", settings.sender_address, settings.ses_identity)
        replies = ReplyReceiving(self, "Replies")
        # Without a reply domain emails carry no Reply-To: replies go to the From address as before.
        reply_domain = {"REPLY_DOMAIN": settings.reply_domain} if settings.reply_domain else {}
        worker_environment = {**environment, "HANDOFF_QUEUE_URL": handoff.queue.queue_url,
                              "SEND_QUEUE_URL": send.queue.queue_url, "PUBLIC_API_URL": public_url,
                              "AUDIENCE_QUEUE_URL": audience.queue.queue_url,
                              "ALERT_QUEUE_URL": alerts.queue.queue_url}
        only = {"sender": {"SENDER_ADDRESS": settings.sender_address,
                           "SES_CONFIGURATION_SET": email.configuration_set.configuration_set_name,
                           "SES_SEND_RATE": f"{settings.sender_rate_per_instance:g}", **reply_domain},
                # A handoff's links are sales routes, which sales tooling signs (SigV4) for the API's own host:
                # CloudFront cannot pass such a request on.
                "handoff": {"PUBLIC_API_URL": api_url},
                "dispatcher": {"SALES_API_URL": api_url},  # reminders' links to the lead
                "replies": {"REPLY_BUCKET": replies.bucket.bucket_name, "SALES_API_URL": api_url, **reply_domain},
                "notifier": {"SENDER_ADDRESS": settings.sender_address,
                             "WEBHOOK_PARAMETERS": alerts.webhook_parameters}}
        workers = {
            name: NurtureFunction(self, f"{construct_name(name)}Function", spec, code,
                                  {**worker_environment, **only.get(name, {})}, settings.log_retention,
                                  reserved_concurrency=settings.reserved_concurrency_of(spec), tracing=settings.tracing)
            for name, spec in FUNCTIONS.items() if name not in API_FUNCTIONS
        }
        functions = {**api_functions, **workers}
        for name, function in functions.items():
            if TABLE_ACTIONS[name]:
                function.allow(TABLE_ACTIONS[name], [data.table.table_arn])
            config.grant_read(function)
        for grants, leading_keys in ((CAMPAIGN_ITEMS, CAMPAIGN_KEYS),
                                     (UNCONFIRMED_REMOVAL, UNCONFIRMED_REMOVAL_KEYS),
                                     (ALERT_MARKERS, ALERT_MARKER_KEYS), (REPLY_ITEMS, REPLY_KEYS),
                                     (SEMINAR_PLACE_DELETES, SEMINAR_PLACE_KEYS),
                                     (CONSOLE_CAMPAIGN_CHANGES, CONSOLE_CAMPAIGN_KEYS),
                                     (CONSOLE_RESUME, CONSOLE_RESUME_KEYS), *CONSOLE_ERASURE, CONSOLE_REASSIGNMENT,
                                     ACCOUNT_MEMBERSHIP, ACCOUNT_STANDING_READS, SWEEP):
            for name, actions in grants.items():
                functions[name].allow(actions, [data.table.table_arn], conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": leading_keys}})
        for name, indexes in INDEX_READS.items():
            functions[name].allow(["dynamodb:Query"], [f"{data.table.table_arn}/index/{index}" for index in indexes])
        # They sign or verify tracking links and reply addresses (forms: a download form's link on its thank-you page).
        for name in ("tracking", "sender", "replies", "forms"):
            key.grant_read(functions[name])
        materials.grant_read(functions["tracking"])
        functions["handoff"].allow(["sqs:SendMessage"], [handoff.queue.queue_arn])
        functions["scoring"].allow(["sqs:SendMessage"], [send.queue.queue_arn])  # double opt-in confirmations
        functions["dispatcher"].allow(["sqs:SendMessage"], [send.queue.queue_arn, audience.queue.queue_arn])
        functions["audience"].allow(["sqs:SendMessage"], [send.queue.queue_arn])  # a campaign's members
        # A campaign's test email; a segment's count (its parts, for the audience workers).
        functions["console"].allow(["sqs:SendMessage"], [send.queue.queue_arn, audience.queue.queue_arn])
        config.grant_publish(functions["console"])  # an admin's push or rollback
        streams = {name: StreamConsumer(self, f"{construct_name(name)}Stream", function, data.table, name,
                                        dead_letters)
                   for name, function in workers.items() if FUNCTIONS[name].trigger == "stream"}
        DispatchSchedule(self, "DispatchSchedule", functions["dispatcher"])
        email.attach_sender(functions["sender"], send.queue, settings.sender_concurrency,
                            settings.sender_rate_per_instance)
        ses_events = SesEvents(self, "SesEvents", email.configuration_set, dead_letters)
        ses_events.attach(functions["ses_events"])
        replies.attach(functions["replies"], dead_letters, settings.reply_domain)
        audience.attach(functions["audience"], data.table.table_arn)
        alerts.attach(functions["notifier"], [functions["handoff"], functions["dispatcher"], functions["replies"]])
        email.allow_alerts(functions["notifier"])
        sales = SalesAccess(self, "SalesAccess", handoff.queue, api.api)
        monitoring = Monitoring(
            self, "Monitoring", functions=functions, stream_consumers=sorted(streams), api=api.api,
            dead_letters={"shared": dead_letters, "handoff": handoff.dead_letters},
            handoff_queue=handoff.queue, send_queue=send.queue,
            watched=[ses_events.paused_alarm, ses_events.at_risk_alarm], alarm_email=settings.alarm_email,
            dashboard=settings.dashboard)

        CfnOutput(self, OUTPUT_API_URL, value=public_url, description="Base URL web forms post to")
        CfnOutput(self, "SalesApiUrl", value=api_url,
                  description="Base URL sales tooling signs its calls to (SigV4): the API itself, at its branded "
                              "domain if it has one")
        CfnOutput(self, OUTPUT_TABLE, value=data.table.table_name)
        CfnOutput(self, OUTPUT_CONSOLE_USER_POOL, value=console.user_pool.user_pool_id,
                  description="The console's users: invite them and put them in a group (docs/console.md)")
        CfnOutput(self, OUTPUT_CONSOLE_CLIENT, value=console.client.user_pool_client_id,
                  description="The console's app client: the console signs in through it")
        CfnOutput(self, OUTPUT_CONSOLE_URL, value=console_site.url,
                  description="The console: sign in here (after `nurture console publish` has uploaded its page)")
        CfnOutput(self, OUTPUT_CONSOLE_BUCKET, value=console_site.bucket.bucket_name,
                  description="`nurture console publish` uploads the console's page here")
        CfnOutput(self, OUTPUT_SIGNING_KEY_PARAMETER, value=key.parameter_name,
                  description="The SSM SecureString parameter holding the tracking links' signing keyring")
        CfnOutput(self, OUTPUT_CONFIG_BUCKET, value=config.bucket.bucket_name,
                  description="`nurture config push` publishes marketer config versions here")
        CfnOutput(self, OUTPUT_DEPLOYED_CONFIG, value=config.deployed_url,
                  description="Config version 1: what this deploy shipped")
        CfnOutput(self, OUTPUT_MATERIALS_BUCKET, value=materials.bucket.bucket_name,
                  description="`nurture config push` puts the materials its download forms name here")
        CfnOutput(self, OUTPUT_AUDIENCE_QUEUE, value=audience.queue.queue_url,
                  description="`nurture segment` and campaigns queue segment scans here")
        CfnOutput(self, OUTPUT_SENDER_ADDRESS, value=settings.sender_address)
        CfnOutput(self, OUTPUT_WEBHOOK_PARAMETERS, value=alerts.webhook_parameters,
                  description="Each webhook's URL and signing secret: a SecureString <path>/<webhook id>")
        CfnOutput(self, OUTPUT_CONFIGURATION_SET, value=email.configuration_set.configuration_set_name)
        CfnOutput(self, OUTPUT_HANDOFF_QUEUE, value=handoff.queue.queue_url, description="Sales tooling polls this")
        CfnOutput(self, "SalesConsumerPolicyArn", value=sales.consumer.managed_policy_arn,
                  description="Attach to sales tooling's role: hot leads, lookups, feedback")
        CfnOutput(self, "SalesErasurePolicyArn", value=sales.erasure.managed_policy_arn,
                  description="Attach to whoever may erase leads (DELETE /v1/leads/{lead_id})")
        CfnOutput(self, "PurchasesPolicyArn", value=sales.purchases.managed_policy_arn,
                  description="Attach to the shop or ERP that records customers' orders (POST /v1/purchases)")
        if monitoring.dashboard_url:
            CfnOutput(self, "DashboardUrl", value=monitoring.dashboard_url, description="Is Nurture healthy?")
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn,
                  description="Subscribe whoever answers alarms (nurture:alarmEmail does it for one address)")
