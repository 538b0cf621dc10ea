"""Sender function: due step emails from the send queue, through SES, recorded on the lead."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from nurture.adapters.campaign_store import DynamoCampaignStore
from nurture.adapters.mailer import SesMailer
from nurture.adapters.sender_store import DynamoSenderStore
from nurture.adapters.token_keys import token_signer
from nurture.config import NurtureConfig
from nurture.domain.clock import utc_now
from nurture.domain.pacing import SendPacer
from nurture.domain.sending import Composer
from nurture.observability import logger, metrics, traced
from nurture.queues.sender import handle_batch
from nurture.settings import config_version, marketer_config, pin_config, runtime_settings


@cache
def collaborators() -> tuple[DynamoSenderStore, SesMailer, DynamoCampaignStore]:
    settings = runtime_settings()
    return (DynamoSenderStore(settings.table_name),
            SesMailer(settings.sender_address, settings.ses_configuration_set,
                      pacer=SendPacer(settings.ses_send_rate)),
            DynamoCampaignStore(settings.table_name))


def composer(config: NurtureConfig) -> Composer:
    """Per batch and config version (a campaign's is the one it was scheduled with): the signing key comes from
    Powertools' cache, so a rotated key is picked up."""
    settings = runtime_settings()
    return Composer.for_config(config, token_signer(settings.signing_key_parameter, config.api.token_lifetime_days),
                               settings.public_api_url, settings.sender_address, settings.reply_domain)


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@pin_config
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, mailer, campaigns = collaborators()
    return handle_batch(event, store, mailer, composer, marketer_config(), utc_now, campaigns.state,
                        config_version)
