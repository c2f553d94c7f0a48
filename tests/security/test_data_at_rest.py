"""Personal data at rest: `var/` 0700, the databases in it 0600; conversation tokens never in the access log."""

from __future__ import annotations

import datetime
import logging
import stat
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from bot import config
from bot.errors import redact_tokens
from bot.integrations.rasa_client import RasaClient
from bot.wsgi_server import ProjectLogger
from common.feedback_log import FeedbackLog
from rasa_runtime import processes
from rasa_runtime.processes import Services
from rasa_runtime.processes import Settings as RasaSettings
from tests.support.app import make_app
from tests.support.gateway import Customer, ScriptedRasa

TOKEN = "9pD9rdTOBLjzwvxnjZG5pJfxB-HPIfOOJQajLM8rXaw"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_gateway_database_is_0600_in_a_folder_created_0700(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    app = make_app(tmp_path, ScriptedRasa(), DATABASE_URL=f"sqlite:///{folder / 'gateway.db'}")
    Customer(app.test_client()).say("Hallo")  # a write: the WAL file exists now
    assert mode(folder) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert "gateway.db" in files and "gateway.db-wal" in files
    for name in files:
        assert mode(folder / name) == 0o600, name


def test_an_existing_project_var_is_made_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)  # as `mkdir var` or an older version left it
    (var / "gateway.db").touch(mode=0o644)
    (var / "gateway.db").chmod(0o644)
    monkeypatch.setattr(config, "VAR", var)
    make_app(tmp_path, ScriptedRasa(), DATABASE_URL=f"sqlite:///{var / 'gateway.db'}")
    assert mode(var) == 0o700
    assert mode(var / "gateway.db") == 0o600


def test_the_feedback_database_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "new" / "feedback.db"
    FeedbackLog(path).record("sender-1", "versand-kosten", True, "button", "Was kostet der Versand?")
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_the_access_log_has_no_conversation_token(caplog: pytest.LogCaptureFixture) -> None:
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = ProjectLogger(cfg)
    path = f"/api/widget/conversations/{TOKEN}/messages"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?after=3",
        "PATH_INFO": path,
        "QUERY_STRING": "after=3",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1:8000/api/widget/conversations/{TOKEN}",
    }
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    with caplog.at_level(logging.INFO):
        logger.access(response, SimpleNamespace(headers=[]), environ, datetime.timedelta(milliseconds=5))
    lines = [record.getMessage() for record in caplog.records]
    assert any("/api/widget/conversations/[token]/messages?after=3" in line for line in lines), lines
    assert not any(TOKEN in line for line in lines)


def test_inbox_ids_stay_readable() -> None:
    assert redact_tokens("/agent/conversations/12345/reply") == "/agent/conversations/12345/reply"
    assert redact_tokens(f"/api/widget/conversations/{TOKEN}") == "/api/widget/conversations/[token]"


@pytest.mark.rasa
def test_rasas_tracker_database_is_0600(rasa_services: Services) -> None:
    """Rasa's SQLite tracker store holds every conversation's text: created private before Rasa opens it."""
    tracker_db = rasa_services.settings.tracker_db
    RasaClient(rasa_services.settings.rasa_url).send(f"at-rest-{uuid.uuid4().hex}", "Hallo")
    files = sorted(tracker_db.parent.glob(tracker_db.name + "*"))
    assert tracker_db in files
    for path in files:
        assert mode(path) == 0o600, path.name


def test_the_tracker_database_is_created_private_before_rasa_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    monkeypatch.setattr(Services, "start_actions", lambda self: started.append("actions"))
    monkeypatch.setattr(Services, "start_rasa", lambda self: started.append("rasa"))
    monkeypatch.setattr(processes, "require_free", lambda ports: None)
    tracker_db = tmp_path / "new" / "trackers.db"
    Services(RasaSettings(tracker_db=tracker_db, log_dir=tmp_path)).start()
    assert started == ["actions", "rasa"]
    assert mode(tracker_db.parent) == 0o700 and mode(tracker_db) == 0o600
