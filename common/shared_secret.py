"""Shared secrets between the service's processes: from the environment, else generated once into `var/`.

One mechanism for every internal secret (the reload token, the action server's `/webhook` token, Rasa's HTTP
API token): an operator sets the environment variable (required when the processes run on different machines
or from different checkouts); on a single machine the first process that needs it writes a random one to a file
in `var/` (mode 0600, never in git), which every other process started from the same checkout reads.
In production (`AUSKUNFT_PRODUCTION=true`) nothing is generated: a secret generated per host would differ between
the machines (every replica refusing the others' calls), so a missing one stops the process with its name.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from common.private_files import private_dir
from common.settings_errors import SettingsError

VAR = Path(__file__).resolve().parent.parent / "var"

ACTIONS_TOKEN_ENV = "AUSKUNFT_ACTIONS_TOKEN"
"""Rasa -> action server: `?token=` on `/webhook` (endpoints.yml `action_endpoint.token`)."""
RASA_TOKEN_ENV = "AUSKUNFT_RASA_TOKEN"
"""Gateway -> Rasa's HTTP API: `rasa run --auth-token`, sent as `?token=` by bot/integrations/rasa_client.py."""


PRODUCTION_ENV = "AUSKUNFT_PRODUCTION"
"""true on every machine of a production deployment: secrets must then come from configuration."""
TRUE_WORDS = {"1", "true", "yes", "on"}


class MissingSecret(SettingsError):
    """A secret that production requires from configuration is not set."""


def production() -> bool:
    return os.environ.get(PRODUCTION_ENV, "").strip().lower() in TRUE_WORDS


def shared_secret(env: str, path: Path) -> str:
    """`env`'s value if set and not empty, else the token kept in `path` (created on first use, mode 0600);
    in production MissingSecret instead of a file."""
    if token := os.environ.get(env):
        return token
    if production():
        raise MissingSecret(
            f"{env} is not set: with {PRODUCTION_ENV}=true every secret comes from configuration, the same on every "
            f"machine / {env} fehlt: im Produktivbetrieb ({PRODUCTION_ENV}=true) kommt jedes Geheimnis aus der "
            "Konfiguration, auf jeder Maschine gleich"
        )
    if path.exists():
        return path.read_text().strip()
    private_dir(path.parent, fix_existing=path.parent.resolve() == VAR.resolve())
    # written aside and linked into place: a process starting at the same moment never reads a half file
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # the other process won; use its token
    finally:
        tmp.unlink()
    return path.read_text().strip()


def same_secret(given: str | None, token: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one."""
    return hmac.compare_digest((given or "").encode(), token.encode())


def actions_token() -> str:
    return shared_secret(ACTIONS_TOKEN_ENV, VAR / "actions_token")


def rasa_token() -> str:
    return shared_secret(RASA_TOKEN_ENV, VAR / "rasa_token")
