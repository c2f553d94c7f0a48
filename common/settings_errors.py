"""Loading a pydantic-settings class so that a bad value stops the start with the variable's name.

Pydantic reports fields (`smtp_port`); an operator sets variables (`AUSKUNFT_SMTP_PORT`). One translation for
every settings class of the project, so the gateway, the action server and the CLI say it the same way.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

SettingsT = TypeVar("SettingsT", bound=BaseSettings)

EXPECTED = {
    "bool_parsing": "expected 1/true/yes/on or 0/false/no/off",
    "bool_type": "expected 1/true/yes/on or 0/false/no/off",
}
"""Pydantic's own message says what is wrong; for booleans it does not say which words count."""


class SettingsError(ValueError):
    """A setting has a value the process cannot start with; the message names each variable and its form."""


def load_settings(settings_cls: type[SettingsT]) -> SettingsT:
    """Read and check every setting; raises SettingsError naming each bad variable and the form it needs."""
    try:
        return settings_cls()
    except ValidationError as error:
        raise SettingsError(describe(error, settings_cls)) from None


def describe(error: ValidationError, settings_cls: type[BaseSettings]) -> str:
    """One line per bad value: the variable, the value (never a secret's) and what it should look like."""
    prefix = settings_cls.model_config.get("env_prefix") or ""
    delimiter = settings_cls.model_config.get("env_nested_delimiter") or "__"
    lines = []
    for problem in error.errors():
        variable = prefix + delimiter.join(str(part).upper() for part in problem["loc"])
        info = settings_cls.model_fields.get(str(problem["loc"][0])) if problem["loc"] else None
        secret = info is not None and info.annotation is SecretStr
        shown = "" if secret else f"={problem['input']!r}"
        cause = problem.get("ctx", {}).get("error")
        message = str(cause) if problem["type"] == "value_error" and cause else problem["msg"]
        if expected := EXPECTED.get(problem["type"]):
            message = f"{message}; {expected}"
        lines.append(f"{variable}{shown}: {message}")
    return "invalid settings (environment or config file):\n  " + "\n  ".join(lines)
