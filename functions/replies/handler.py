"""Replies function: a reply to a Nurture email, stored by SES receiving in the reply bucket, read and acted on."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.alert_queue import AlertQueue
from nurture.adapters.reply_store import DynamoReplyStore, S3ReplyMail
from nurture.adapters.token_keys import refreshed_signer, token_signer
from nurture.domain.clock import utc_now
from nurture.domain.tokens import TokenSigner
from nurture.inbound.replies import ReplyServices, handle_receipts
from nurture.observability import logger, metrics, traced
from nurture.settings import marketer_config, pin_config, runtime_settings
from nurture.topology import REPLY_OBJECT_PREFIX


@cache
def services() -> ReplyServices:
    settings = runtime_settings()
    return ReplyServices(DynamoReplyStore(settings.table_name), S3ReplyMail(settings.reply_bucket, REPLY_OBJECT_PREFIX),
                         signer, fresh_signer, AlertQueue(settings.alert_queue_url), settings.reply_domain,
                         settings.sales_api_url or settings.public_api_url)


def signer() -> TokenSigner:
    return token_signer(runtime_settings().signing_key_parameter, marketer_config().api.token_lifetime_days)


def fresh_signer() -> TokenSigner | None:
    return refreshed_signer(runtime_settings().signing_key_parameter, marketer_config().api.token_lifetime_days)


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return handle_receipts(event, services(), marketer_config(), utc_now)
