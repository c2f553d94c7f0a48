"""The action server's settings: one pydantic-settings class, checked when `python -m actions.server` starts.

Until now each module read its variable from `os.environ` when it needed it, so a typo (a broken order-number
pattern, a listening address without the token) surfaced at a customer's question. The names are unchanged;
the errors read as the gateway's do (common/settings_errors.py). Read again at each use (cheap), so tests and
operators can point one process at other files without a restart of the interpreter.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.order_numbers import ORDER_NUMBER_PATTERN
from common.rate_limits import RateLimit
from common.settings_errors import load_settings
from common.shared_secret import ACTIONS_TOKEN_ENV
from knowledge_base.settings import PROJECT_ROOT

LOOPBACK = ("localhost", "::1")


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


class ActionServerSettings(BaseSettings):
    """Every setting of the action server (the knowledge base's own live in knowledge_base/settings.py)."""

    model_config = SettingsConfigDict(env_prefix="AUSKUNFT_", env_ignore_empty=True, extra="ignore")

    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("AUSKUNFT_ACTIONS_HOST", "SANIC_HOST"))
    """Where it listens: only Rasa calls it, so this machine unless Rasa runs elsewhere."""
    order_api_url: str = ""
    """The shop's order API (`GET {url}/{order_number}`); empty: `order_backend.url` in endpoints.yml, else the
    demo SQLite backend `orders_db`."""
    orders_db: Path = PROJECT_ROOT / "var" / "orders.db"
    order_help_faq_id: str = "versand-sendungsverfolgung"
    """The FAQ entry offered as a button when the bot asks for an order number (how tracking works in general);
    an id the knowledge base does not hold: no button."""
    order_number_pattern: str = ORDER_NUMBER_PATTERN
    """A regular expression; masked in the feedback log's questions."""
    limit_order_lookups_per_client: RateLimit = "10 per hour"
    """Order look-ups per client, whatever the conversation (actions/order_limits.py)."""
    limit_order_failures_per_conversation: RateLimit = "3 per hour"
    """Wrong number/postcode/e-mail combinations per conversation."""
    redis_url: SecretStr = SecretStr("")
    """The order limits' counts in Redis, shared by several action servers; empty: in this process."""
    actions_token: SecretStr = Field(default=SecretStr(""), validate_default=True)
    """Rasa's `?token=` on `/webhook` (common/shared_secret.py: else generated into var/ on one machine)."""

    @field_validator("order_number_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"not a regular expression ({error})") from None
        return pattern

    @field_validator("order_api_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return url.rstrip("/")

    @field_validator("actions_token")
    @classmethod
    def _token_beyond_loopback(cls, token: SecretStr, info: ValidationInfo) -> SecretStr:
        """Rasa elsewhere reads no var/ file of ours: a generated token would only lock it out."""
        host = info.data.get("host", "127.0.0.1")
        if not token.get_secret_value() and not is_loopback(host):
            raise ValueError(
                f"required when the action server listens beyond this machine (SANIC_HOST={host}); set it for the "
                f"action server and Rasa / {ACTIONS_TOKEN_ENV} für Action-Server und Rasa setzen"
            )
        return token


def current() -> ActionServerSettings:
    """The settings now; raises SettingsError naming each bad variable."""
    return load_settings(ActionServerSettings)
