"""Runtime settings of a function: read from the environment once, then passed around typed."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from msgspec import Struct, field

from nurture.config.bundle import NurtureConfig
from nurture.config.compiled import COMPILED_FILE, from_compiled
from nurture.config.versions import DEPLOYED_VERSION, DamagedRecord
from nurture.domain.errors import ConfigInvalid, StoreUnavailable

if TYPE_CHECKING:
    from nurture.adapters.config_store import ConfigStore


class RuntimeSettings(Struct, frozen=True, kw_only=True):
    """What the stack tells a function through its environment (infra/settings.py writes the same names)."""

    table_name: str
    signing_key_parameter: str  # the SSM SecureString parameter holding the tracking links' signing keyring
    config_dir: Path
    config_bucket: str = ""  # where `nurture config push` publishes versions; empty: only the deployed config
    config_max_age_seconds: int = 60  # how long the active version's pointer is trusted before it is read again
    handoff_queue_url: str = ""
    send_queue_url: str = ""
    audience_queue_url: str = ""
    alert_queue_url: str = ""
    # The SSM path under which each webhook's URL and signing secret are kept, one SecureString per webhook id.
    webhook_parameters: str = ""
    public_api_url: str = ""  # base URL of the API, for links in emails and handoffs
    # The sales routes' own base URL, for links to a lead in alerts (SigV4-signed calls cannot pass CloudFront);
    # empty: the public one.
    sales_api_url: str = ""
    sender_address: str = ""  # the verified SES identity step emails come from
    ses_configuration_set: str = ""
    ses_send_rate: float = 0  # this instance's emails a second; 0: unpaced
    # The header a proxy in front (CloudFront) puts the client's address in; empty: the connection's address.
    client_ip_header: str = ""
    # The domain SES receives replies at (each email's Reply-To is a signed address there); empty: no Reply-To.
    reply_domain: str = ""
    reply_bucket: str = ""  # where SES receiving stores each reply's raw message
    materials_bucket: str = ""  # the private bucket of download forms' materials
    shipped_materials: dict[str, str] = field(default_factory=dict)  # what the deploy shipped: name -> s3 URL

    def __post_init__(self) -> None:
        """A function deployed without what it needs fails at its first request, saying what is missing."""
        if len(self.table_name) < 3:
            raise ValueError("TABLE_NAME is not set (a table name has at least 3 characters)")
        if not self.signing_key_parameter:
            raise ValueError("SIGNING_KEY_PARAMETER is not set")
        if self.config_max_age_seconds < 1 or self.ses_send_rate < 0:
            raise ValueError("CONFIG_MAX_AGE_SECONDS is at least 1 and SES_SEND_RATE at least 0")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RuntimeSettings:
        return cls(
            table_name=environ.get("TABLE_NAME", ""),
            signing_key_parameter=environ.get("SIGNING_KEY_PARAMETER", ""),
            # In Lambda the config layer is mounted at /opt/config.
            config_dir=Path(environ.get("NURTURE_CONFIG_DIR", "/opt/config")),
            config_bucket=environ.get("CONFIG_BUCKET", ""),
            config_max_age_seconds=int(environ.get("CONFIG_MAX_AGE_SECONDS") or 60),
            handoff_queue_url=environ.get("HANDOFF_QUEUE_URL", ""),
            send_queue_url=environ.get("SEND_QUEUE_URL", ""),
            audience_queue_url=environ.get("AUDIENCE_QUEUE_URL", ""),
            alert_queue_url=environ.get("ALERT_QUEUE_URL", ""),
            webhook_parameters=environ.get("WEBHOOK_PARAMETERS", ""),
            public_api_url=environ.get("PUBLIC_API_URL", ""),
            sales_api_url=environ.get("SALES_API_URL", ""),
            sender_address=environ.get("SENDER_ADDRESS", ""),
            ses_configuration_set=environ.get("SES_CONFIGURATION_SET", ""),
            ses_send_rate=float(environ.get("SES_SEND_RATE") or 0),
            client_ip_header=environ.get("CLIENT_IP_HEADER", ""),
            reply_domain=environ.get("REPLY_DOMAIN", ""),
            reply_bucket=environ.get("REPLY_BUCKET", ""),
            materials_bucket=environ.get("MATERIALS_BUCKET", ""),
            shipped_materials=json.loads(environ.get("SHIPPED_MATERIALS") or "{}"),
        )


@cache
def runtime_settings() -> RuntimeSettings:
    return RuntimeSettings.from_environ(os.environ)


class ActiveConfig(Struct, frozen=True):
    version: int
    config: NurtureConfig


# The version an invocation runs with, fixed when it starts (threads of the local runtime each have their own).
_pinned: ContextVar[ActiveConfig | None] = ContextVar("pinned_config", default=None)
_loaded: dict[int, ActiveConfig] = {}  # versions this process has validated, by number: each is itself
_serving: dict[int, ActiveConfig] = {}  # per pointer value, what serves it (a fallback when it did not validate)
MAX_FALLBACKS = 10  # versions walked back past ones this code cannot validate, before the deployed one
_last_good: ActiveConfig | None = None
F = TypeVar("F", bound=Callable[..., Any])


def marketer_config() -> NurtureConfig:
    return active_config().config


def active_config() -> ActiveConfig:
    """The invocation's pinned version; outside an invocation (the CLI, tests), the newest known."""
    return _pinned.get() or _newest()


def pin_config(handler: F) -> F:
    """Run each invocation with one config version from start to end: a push that lands meanwhile is
    picked up by the next invocation, never half-way through this one."""

    from nurture.observability import logger

    @functools.wraps(handler)
    def pinned(event: Any, context: Any) -> Any:
        active = _newest()
        logger.append_keys(config_version=active.version)
        token = _pinned.set(active)
        try:
            return handler(event, context)
        finally:
            _pinned.reset(token)

    return pinned  # type: ignore[return-value]


def config_version(number: int) -> NurtureConfig:
    """A given version, whether active or not: work made with one version (a segment scan's parts) is done
    with that version to the end. Raises ConfigInvalid or StoreUnavailable."""
    if number not in _loaded:
        _loaded[number] = ActiveConfig(number, _load_version(runtime_settings().config_bucket, number))
    return _loaded[number].config  # never another version in its place: that is only for what is active


def _newest() -> ActiveConfig:
    """The active version per the store (its pointer read at most once a minute), loaded once. A version that
    does not validate with this code gives way to the one it replaced (and so on back to the deployed one),
    the same in every container; a store that cannot be read leaves this container on what it last ran
    (the deployed version on a cold start). Either is said and counted: a function keeps serving."""
    global _last_good
    # Powertools' logger binds stdout when first imported: not before a CLI has redirected it (`nurture invoke`).
    from nurture.observability import count_shared, logger

    settings = runtime_settings()
    bucket = settings.config_bucket
    try:
        number = _config_store(bucket).active_version(settings.config_max_age_seconds) if bucket \
            else DEPLOYED_VERSION
        if number not in _serving:
            _serving[number] = _valid_version(bucket, number)
        _last_good = _serving[number]
    except StoreUnavailable:
        logger.exception("config store unreadable: running with the last version read")
        count_shared("ConfigProblem")
    if _last_good is None:
        _last_good = _loaded.setdefault(DEPLOYED_VERSION, ActiveConfig(DEPLOYED_VERSION, _deployed_config()))
    return _last_good


def _valid_version(bucket: str, number: int) -> ActiveConfig:
    """`number`, or the newest version before it that this code validates."""
    from nurture.observability import count_shared, logger

    for _ in range(MAX_FALLBACKS):
        try:
            if number not in _loaded:
                _loaded[number] = ActiveConfig(number, _load_version(bucket, number))
            return _loaded[number]
        except (ConfigInvalid, DamagedRecord):
            if number == DEPLOYED_VERSION:
                raise
            # Pushed by a newer CLI, or damaged in the store: the version it replaced serves instead.
            logger.exception("config version does not validate here: using the one before it",
                             extra={"config_version": number})
            count_shared("ConfigProblem")
            number = _previous(bucket, number)
    return ActiveConfig(DEPLOYED_VERSION, _deployed_config())


def _previous(bucket: str, number: int) -> int:
    try:
        return _config_store(bucket).version(number).previous
    except DamagedRecord:  # its own record of what it replaced is gone too
        return DEPLOYED_VERSION


def _load_version(bucket: str, number: int) -> NurtureConfig:
    if number == DEPLOYED_VERSION:
        return _deployed_config()
    version = _config_store(bucket).version(number)
    from nurture.config.loader import load_config_files

    return _compiled_or_validated(version.compiled, version.digest, f"config v{number}",
                                  lambda: load_config_files(version.files, f"config v{number}"))


@cache
def _deployed_config() -> NurtureConfig:
    """The config layer's compiled config (written by `cdk synth`); the YAML files validated when there is none
    (the local runtime, tests)."""
    from nurture.config.loader import load_config, read_config_files
    from nurture.config.versions import digest

    directory = runtime_settings().config_dir
    compiled = directory / COMPILED_FILE
    if not compiled.is_file():
        return load_config(directory)
    return _compiled_or_validated(compiled.read_text(encoding="utf-8"), digest(read_config_files(directory)),
                                  "the config layer", lambda: load_config(directory))


def _compiled_or_validated(compiled: str, files_digest: str, what: str,
                           validate: Callable[[], NurtureConfig]) -> NurtureConfig:
    """The compiled config when it is this library's and of these files; else the files validated, and said: a
    push or deploy from another release costs every cold start the validation (`nurture config push` again)."""
    config = from_compiled(compiled, files_digest) if compiled else None
    if config is not None:
        return config
    from nurture.observability import logger

    logger.warning("no compiled config of this release: validating the files", extra={"config": what})
    return validate()


@cache
def _config_store(bucket: str) -> ConfigStore:
    from nurture.adapters.config_store import ConfigStore  # boto3 and the parameter cache: not on cold import

    return ConfigStore(bucket)


def reload() -> None:
    """Forget what was read (tests and the local runtime change the environment)."""
    global _last_good
    runtime_settings.cache_clear()
    _deployed_config.cache_clear()
    _config_store.cache_clear()
    _loaded.clear()
    _serving.clear()
    _last_good = None
