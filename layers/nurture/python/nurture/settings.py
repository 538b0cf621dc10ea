"""Runtime settings of a function: read from the environment once, then passed around typed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nurture.config import NurtureConfig, load_config


class RuntimeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3)
    token_secret_id: str = Field(min_length=1)
    config_dir: Path
    handoff_queue_url: str = ""
    send_queue_url: str = ""
    public_api_url: str = Field(default="", description="base URL of the API, for links in emails and handoffs")
    sender_address: str = Field(default="", description="the verified SES identity step emails come from")
    ses_configuration_set: str = ""
    ses_send_rate: float = Field(default=0, ge=0, description="this instance's emails a second; 0: unpaced")
    client_ip_header: str = Field(default="", description="the header a proxy in front (CloudFront) puts the "
                                  "client's address in; empty: the connection's address")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RuntimeSettings:
        return cls(
            table_name=environ.get("TABLE_NAME", ""),
            token_secret_id=environ.get("TOKEN_SECRET_ID", ""),
            # In Lambda the config layer is mounted at /opt/config.
            config_dir=Path(environ.get("NURTURE_CONFIG_DIR", "/opt/config")),
            handoff_queue_url=environ.get("HANDOFF_QUEUE_URL", ""),
            send_queue_url=environ.get("SEND_QUEUE_URL", ""),
            public_api_url=environ.get("PUBLIC_API_URL", ""),
            sender_address=environ.get("SENDER_ADDRESS", ""),
            ses_configuration_set=environ.get("SES_CONFIGURATION_SET", ""),
            ses_send_rate=float(environ.get("SES_SEND_RATE") or 0),
            client_ip_header=environ.get("CLIENT_IP_HEADER", ""),
        )


@cache
def runtime_settings() -> RuntimeSettings:
    return RuntimeSettings.from_environ(os.environ)


@cache
def marketer_config() -> NurtureConfig:
    return load_config(runtime_settings().config_dir)


def reload() -> None:
    """Forget what was read (tests and the local runtime change the environment)."""
    runtime_settings.cache_clear()
    marketer_config.cache_clear()
