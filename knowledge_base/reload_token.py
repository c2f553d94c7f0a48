"""The shared secret that lets the gateway ask the action server to reload the knowledge base.

The action server listens on a port Rasa reaches; without the secret anyone there could make it re-embed
the FAQ over and over. `AUSKUNFT_RELOAD_TOKEN`, else a random one kept in `var/reload_token` (never in git),
which both processes read when started from the same checkout; `rasa_runtime` also passes it by environment.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from common.shared_secret import shared_secret
from knowledge_base.settings import PROJECT_ROOT

ENV = "AUSKUNFT_RELOAD_TOKEN"
TOKEN_FILE = PROJECT_ROOT / "var" / "reload_token"


def reload_token(path: Path = TOKEN_FILE) -> str:
    return shared_secret(ENV, path)


def authorization_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_authorized(header: str | None, token: str) -> bool:
    """Constant-time comparison of an `Authorization: Bearer …` header with the token."""
    return hmac.compare_digest((header or "").encode(), f"Bearer {token}".encode())
