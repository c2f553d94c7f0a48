"""The shared secret that lets the gateway ask the action server to reload the knowledge base.

The action server listens on a port Rasa reaches; without the secret anyone there could make it re-embed
the FAQ over and over. `AUSKUNFT_RELOAD_TOKEN`, else a random one kept in `var/reload_token` (never in git),
which both processes read when started from the same checkout; `rasa_runtime` also passes it by environment.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from knowledge_base.settings import PROJECT_ROOT

ENV = "AUSKUNFT_RELOAD_TOKEN"
TOKEN_FILE = PROJECT_ROOT / "var" / "reload_token"


def reload_token(path: Path = TOKEN_FILE) -> str:
    if token := os.environ.get(ENV):
        return token
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
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


def authorization_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_authorized(header: str | None, token: str) -> bool:
    """Constant-time comparison of an `Authorization: Bearer …` header with the token."""
    return hmac.compare_digest((header or "").encode(), f"Bearer {token}".encode())
