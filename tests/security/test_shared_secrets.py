"""The internal secrets' one mechanism (common/shared_secret.py): the environment wins, else one random token
generated into a 0600 file that every process of the checkout reads."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot import config
from common import shared_secret
from knowledge_base import reload_token


def test_generated_once_private_and_shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUSKUNFT_X_TOKEN", raising=False)
    path = tmp_path / "var" / "x_token"
    first = shared_secret.shared_secret("AUSKUNFT_X_TOKEN", path)
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert shared_secret.shared_secret("AUSKUNFT_X_TOKEN", path) == first  # a second process reads the same
    monkeypatch.setenv("AUSKUNFT_X_TOKEN", "vom-betreiber")
    assert shared_secret.shared_secret("AUSKUNFT_X_TOKEN", path) == "vom-betreiber"


def test_each_internal_secret_from_its_variable_else_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_secret, "VAR", tmp_path)
    for name in ("AUSKUNFT_ACTIONS_TOKEN", "AUSKUNFT_RASA_TOKEN", "AUSKUNFT_RELOAD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    actions, rasa = shared_secret.actions_token(), shared_secret.rasa_token()
    assert actions != rasa and reload_token.reload_token(tmp_path / "reload_token") not in (actions, rasa)
    assert (tmp_path / "actions_token").read_text() == actions and (tmp_path / "rasa_token").read_text() == rasa
    monkeypatch.setenv("AUSKUNFT_ACTIONS_TOKEN", "a-geheim")
    monkeypatch.setenv("AUSKUNFT_RASA_TOKEN", "r-geheim")
    assert (shared_secret.actions_token(), shared_secret.rasa_token()) == ("a-geheim", "r-geheim")


def test_action_server_opened_beyond_this_machine_needs_a_configured_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions import server

    monkeypatch.setenv("SANIC_HOST", "0.0.0.0")
    monkeypatch.delenv("AUSKUNFT_ACTIONS_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="AUSKUNFT_ACTIONS_TOKEN") as refused:
        server.main(["-p", "6399"])
    assert "SANIC_HOST=0.0.0.0" in str(refused.value)


PRODUCTION_SECRETS = ("SECRET_KEY", "AUSKUNFT_ACTIONS_TOKEN", "AUSKUNFT_RASA_TOKEN", "AUSKUNFT_RELOAD_TOKEN")


def test_production_never_generates_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret generated per host would differ between replicas: production names the missing one instead."""
    monkeypatch.setattr(shared_secret, "VAR", tmp_path)
    monkeypatch.setenv("AUSKUNFT_PRODUCTION", "true")
    for name in PRODUCTION_SECRETS:
        monkeypatch.delenv(name, raising=False)
    for read, name in (
        (shared_secret.actions_token, "AUSKUNFT_ACTIONS_TOKEN"),
        (shared_secret.rasa_token, "AUSKUNFT_RASA_TOKEN"),
        (lambda: reload_token.reload_token(tmp_path / "reload_token"), "AUSKUNFT_RELOAD_TOKEN"),
        (lambda: config.secret_key(tmp_path / "secret_key"), "SECRET_KEY"),
    ):
        with pytest.raises(shared_secret.MissingSecret, match=name):
            read()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("AUSKUNFT_RASA_TOKEN", "vom-betreiber")
    assert shared_secret.rasa_token() == "vom-betreiber"


@pytest.mark.parametrize(
    "command", [["-m", "bot", "gateway", "--port", "6398"], ["-m", "actions.server", "-p", "6399"]]
)
def test_production_process_without_its_secrets_stops_with_their_name(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_SECRETS}
    env["AUSKUNFT_PRODUCTION"] = "true"
    done = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "im Produktivbetrieb" in done.stderr and "Traceback" not in done.stderr
    assert any(name in done.stderr for name in PRODUCTION_SECRETS)
