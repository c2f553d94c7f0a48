"""The gateway's settings: one pydantic-settings class, validated at start, that yields the Flask config.

Read from `AUSKUNFT_*` environment variables and a TOML file outside git (`AUSKUNFT_CONFIG_FILE`, else
`var/auskunft.toml` if present; for secrets that should not sit in a service's environment); the environment wins
over the file. Every value is checked when the gateway starts, so a typo stops it with a message naming the
variable instead of surfacing as a crash (or a silently wrong flag) later. The secret key is generated once
into var/ so it never lands in git.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.conversation.availability import DEFAULT_HOURS, parse_hours
from common.rate_limits import RateLimit
from common.settings_errors import load_settings
from common.shared_secret import shared_secret

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ENV_PREFIX = "AUSKUNFT_"
CONFIG_FILE_ENV = "AUSKUNFT_CONFIG_FILE"


def secret_key(path: Path) -> str:
    """`SECRET_KEY` from the environment, else a random key kept in `path` (created on first run, mode 600);
    required in production, where every replica must sign sessions with the same key."""
    return shared_secret("SECRET_KEY", path)


def config_file() -> Path | None:
    """`AUSKUNFT_CONFIG_FILE`, else `var/auskunft.toml` if present; a named file that does not exist is an error."""
    named = os.environ.get(CONFIG_FILE_ENV)
    path = Path(named) if named else VAR / "auskunft.toml"
    if path.exists():
        return path
    if named:
        raise FileNotFoundError(f"{CONFIG_FILE_ENV} names {path}, which does not exist")
    return None


class PrefixedTomlSource(TomlConfigSettingsSource):
    """The file spells settings as the environment does (`AUSKUNFT_TWILIO_AUTH_TOKEN = "…"`), so one line can
    move between the two; other keys and tables are not ours and are left alone."""

    def _read_file(self, file_path: Path) -> dict[str, Any]:  # type: ignore[override]
        return {
            key[len(ENV_PREFIX):].lower(): value
            for key, value in super()._read_file(file_path).items()
            if key.upper().startswith(ENV_PREFIX)
        }


class GatewaySettings(BaseSettings):
    """Every `AUSKUNFT_*` setting of the gateway, with its default; `flask_config()` is what the app reads."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # `AUSKUNFT_SMTP_PORT=` means "not set", as it did before
        extra="ignore",
        coerce_numbers_to_str=True,  # TOML `AUSKUNFT_TWILIO_FROM_NUMBER = 4915…` is still a string setting
    )

    database_url: str = f"sqlite:///{VAR / 'gateway.db'}"
    # the three processes' ports (`python -m bot run` starts them there; two stacks on one machine differ here)
    gateway_port: int = Field(default=8000, ge=1, le=65535)
    rasa_port: int = Field(default=5005, ge=1, le=65535)
    actions_port: int = Field(default=5055, ge=1, le=65535)
    gateway_workers: int = Field(default=1, ge=1)
    """gunicorn worker processes; more than one needs Redis (`redis_url`) so that replies reach every worker's
    streams (README "Auf mehreren Maschinen betreiben")."""
    gateway_threads: int = Field(default=100, ge=4)
    """gunicorn threads: one per open SSE stream (a widget or inbox page) plus the requests being answered."""
    gateway_workers: int = Field(default=1, ge=1)
    """gunicorn worker processes (each with `gateway_threads` threads); more than one needs `redis_url`."""
    metrics_dir: Path | None = None
    """With several workers: where they keep their Prometheus counts for /metrics to add up; default
    var/metrics-<port> (emptied at each start)."""
    rasa_url: str = ""
    """Empty: Rasa on this machine at `rasa_port`."""
    actions_url: str = ""
    """The action server (its `POST /kb/reload`); empty: this machine at `actions_port`."""
    rasa_timeout: float = Field(default=30.0, gt=0)
    rasa_retry_seconds: float = Field(default=5.0, gt=0)
    """How often messages left unanswered by a Rasa outage (or a crash) are offered to Rasa again."""
    db_pool_size: int = Field(default=20, ge=1)
    """Database connections kept open (as many again may open under load): at least the server's threads."""
    secure_cookies: bool | None = None
    """The session cookie travels over HTTPS only, and HSTS is sent. Unset: on unless `public_url` is plain http
    or unset (the localhost demo on http://127.0.0.1); set it to true behind HTTPS without a public URL."""
    session_hours: float = Field(default=12.0, gt=0)
    """A staff login lasts at most this long, however active."""
    session_idle_minutes: float = Field(default=120.0, gt=0)
    """A staff login without a request for this long is over."""
    widget_frame_ancestors: str = "'self'"
    """Who may frame the widget (`/widget/chat.html`): CSP `frame-ancestors` sources, space-separated, e.g.
    "'self' https://shop.example"; staff pages may be framed by nobody."""
    privacy_url: str = ""
    """The shop's privacy notice, linked as „Datenschutz“ under the widget's input (empty: no link)."""
    imprint_url: str = ""
    """The shop's imprint, linked as „Impressum“ beside it (empty: no link)."""
    max_message_chars: int = Field(default=4000, ge=1)
    business_hours: str = DEFAULT_HOURS
    """Europe/Berlin, e.g. "mo-fr 08:00-20:00; sa 09:00-16:00" (the demo shop's service times)."""
    agent_online_minutes: float = Field(default=5.0, gt=0)
    # the transcript by e-mail; without a host the widget's endpoint answers 503
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    mail_from: str = "kundenservice@localhost"
    shop_name: str = "unserem Kundenservice"
    """The name in the mails' From and fixed subject ("Ihr Chatverlauf mit Lindgrün")."""
    mail_daily_cap: int = Field(default=200, ge=0)
    """Mails sent for customers per day (confirmations and transcripts, all gateway processes together)."""
    metrics_token: SecretStr = SecretStr("")
    """/metrics: a bearer token for Prometheus; unset = only requests from this machine."""
    # Messenger and SMS (Twilio); a channel without its secrets stays switched off (its webhook answers 404)
    public_url: str = ""
    messenger_app_secret: SecretStr = SecretStr("")
    messenger_page_token: SecretStr = SecretStr("")
    messenger_verify_token: SecretStr = SecretStr("")
    messenger_human_agent_tag: bool = False
    messenger_app_id: str = ""
    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v21.0"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_url: str = "https://api.twilio.com"
    sms_reply_mode: Literal["twiml", "api"] = "twiml"
    sms_more_url: str = ""
    faq_dir: Path = ROOT / "knowledge_base" / "faqs"
    """For the SMS short answers."""
    channel_timeout: float = Field(default=10.0, gt=0)
    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_backoff_seconds: float = Field(default=2.0, ge=0)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    """A send claimed by a gateway process that then crashed is taken over by another after this long; keep it
    well above `channel_timeout` (a slower send would be sent twice)."""
    retention_days: int | None = Field(default=None, ge=1)
    """`flask --app bot purge` deletes what is older than this many days unless told otherwise."""
    # throttling (bot/web/limits.py): per client address and per account or conversation
    ratelimit_enabled: bool = True
    redis_url: SecretStr = SecretStr("")
    """Shared by several gateway processes or machines: the limits' counts, SSE wake-ups, typing, the per-customer
    locks (bot/replicas.py). Empty: all of it in this process (one gateway process)."""
    proxy_hops: int = Field(default=0, ge=0)
    """Reverse proxies in front of the gateway: the client address for the limits is then read from X-Forwarded-For."""
    limit_login_per_ip: RateLimit = "30 per 15 minutes"
    """Failed logins from one address (a correct password does not count)."""
    limit_login_per_account: RateLimit = "10 per 15 minutes"
    """Failed logins for one e-mail address, known or not."""
    limit_starts_per_ip: RateLimit = "10 per minute; 100 per hour"
    limit_messages_per_ip: RateLimit = "30 per minute; 600 per hour"
    limit_messages_per_conversation: RateLimit = "10 per minute; 100 per hour"
    limit_transcripts_per_ip: RateLimit = "5 per hour; 20 per day"
    """Transcript mails sent (besides at most 3 per conversation in all)."""
    limit_transcripts_per_conversation: RateLimit = "3 per hour"

    @model_validator(mode="after")
    def _local_urls_follow_ports(self) -> GatewaySettings:
        self.rasa_url = (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")
        self.actions_url = (self.actions_url or f"http://127.0.0.1:{self.actions_port}").rstrip("/")
        return self

    @model_validator(mode="after")
    def _workers_share_through_redis(self) -> GatewaySettings:
        if self.gateway_workers > 1 and not self.redis_url.get_secret_value():
            raise ValueError(
                "AUSKUNFT_GATEWAY_WORKERS > 1 needs AUSKUNFT_REDIS_URL: the workers share wake-ups and locks there"
            )
        return self

    @field_validator("business_hours")
    @classmethod
    def _readable_hours(cls, spec: str) -> str:
        parse_hours(spec)  # the one parser of the spec; its HoursError says what is wrong
        return spec

    @field_validator("privacy_url", "imprint_url")
    @classmethod
    def _web_link(cls, url: str) -> str:
        if url and not url.lower().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) address, e.g. https://shop.example/datenschutz")
        return url

    @field_validator("public_url", "graph_api_url", "twilio_api_url")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the TOML file (earlier wins)."""
        path = config_file()
        if path is None:
            return init_settings, env_settings
        return init_settings, env_settings, PrefixedTomlSource(settings_cls, toml_file=path)

    @property
    def https(self) -> bool:
        """Secure cookies and HSTS: as configured, else whether the public URL is https."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.lower().startswith("https://")

    def flask_config(self) -> dict[str, Any]:
        """The Flask config keys the rest of the gateway reads (unchanged by the move to pydantic-settings)."""
        return {
            "PUBLIC_URL": self.public_url,
            "MESSENGER_APP_SECRET": self.messenger_app_secret.get_secret_value(),
            "MESSENGER_PAGE_TOKEN": self.messenger_page_token.get_secret_value(),
            "MESSENGER_VERIFY_TOKEN": self.messenger_verify_token.get_secret_value(),
            "MESSENGER_HUMAN_AGENT_TAG": self.messenger_human_agent_tag,
            "MESSENGER_APP_ID": self.messenger_app_id,
            "GRAPH_API_URL": self.graph_api_url,
            "GRAPH_API_VERSION": self.graph_api_version,
            "TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token.get_secret_value(),
            "TWILIO_FROM_NUMBER": self.twilio_from_number,
            "TWILIO_MESSAGING_SERVICE_SID": self.twilio_messaging_service_sid,
            "TWILIO_API_URL": self.twilio_api_url,
            "SMS_REPLY_MODE": self.sms_reply_mode,
            "SMS_MORE_URL": self.sms_more_url,
            "FAQ_DIR": str(self.faq_dir),
            "CHANNEL_TIMEOUT": self.channel_timeout,
            "DELIVERY_MAX_ATTEMPTS": self.delivery_max_attempts,
            "DELIVERY_BACKOFF_SECONDS": self.delivery_backoff_seconds,
            "DELIVERY_WORKER": True,  # tests switch the background sender off and drive it by hand
            "DATABASE_URL": self.database_url,
            "RASA_URL": self.rasa_url,
            "ACTIONS_URL": self.actions_url,
            "RASA_TIMEOUT": self.rasa_timeout,
            "RASA_RETRY_SECONDS": self.rasa_retry_seconds,
            "PENDING_WORKER": True,  # answers owed messages in the background (bot.conversation.pending)
            "DB_POOL_SIZE": self.db_pool_size,
            "SESSION_COOKIE_SECURE": self.https,
            "HSTS": self.https,
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_hours),
            "SESSION_IDLE_SECONDS": self.session_idle_minutes * 60,
            "WIDGET_FRAME_ANCESTORS": self.widget_frame_ancestors,
            "PRIVACY_URL": self.privacy_url,
            "IMPRINT_URL": self.imprint_url,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "MAX_MESSAGE_CHARS": self.max_message_chars,
            "MAX_CONTENT_LENGTH": 256 * 1024,
            "SSE_KEEPALIVE_SECONDS": 15.0,
            "BUSINESS_HOURS": self.business_hours,
            "AGENT_ONLINE_MINUTES": self.agent_online_minutes,
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": self.smtp_port,
            "SMTP_USER": self.smtp_user,
            "SMTP_PASSWORD": self.smtp_password.get_secret_value(),
            "SMTP_STARTTLS": self.smtp_starttls,
            "MAIL_FROM": self.mail_from,
            "SHOP_NAME": self.shop_name,
            "MAIL_DAILY_CAP": self.mail_daily_cap,
            "MAX_TRANSCRIPT_MAILS": 3,
            "METRICS_TOKEN": self.metrics_token.get_secret_value(),
            "RETENTION_DAYS": self.retention_days,
            "RATELIMIT_ENABLED": self.ratelimit_enabled,
            "RATELIMIT_STORAGE_URI": self.redis_url.get_secret_value() or "memory://",
            "REDIS_URL": self.redis_url.get_secret_value(),
            "LOCK_LEASE_SECONDS": 30.0,
            "DELIVERY_LEASE_SECONDS": self.delivery_lease_seconds,
            "RATELIMIT_PROXY_HOPS": self.proxy_hops,
            "RATELIMIT_LOGIN_PER_IP": self.limit_login_per_ip,
            "RATELIMIT_LOGIN_PER_ACCOUNT": self.limit_login_per_account,
            "RATELIMIT_STARTS_PER_IP": self.limit_starts_per_ip,
            "RATELIMIT_MESSAGES_PER_IP": self.limit_messages_per_ip,
            "RATELIMIT_MESSAGES_PER_CONVERSATION": self.limit_messages_per_conversation,
            "RATELIMIT_TRANSCRIPTS_PER_IP": self.limit_transcripts_per_ip,
            "RATELIMIT_TRANSCRIPTS_PER_CONVERSATION": self.limit_transcripts_per_conversation,
        }


def from_env() -> dict[str, Any]:
    """The Flask config from the environment and the config file; raises SettingsError for a bad value."""
    return load_settings(GatewaySettings).flask_config()
