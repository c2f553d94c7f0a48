"""Where the Rasa tracker store is: read from the endpoints files Rasa runs with, variables filled like Rasa."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ROOT, VAR
from bot.customers.rasa_trackers import TrackerStoreUnsupported, configured_url, url_from_endpoints


def test_the_sqlite_store_of_endpoints_yml() -> None:
    url = url_from_endpoints(ROOT / "endpoints.yml", {"AUSKUNFT_TRACKER_DB": "/srv/rasa/trackers.db"})
    assert url is not None and (url.drivername, url.database) == ("sqlite", "/srv/rasa/trackers.db")
    default = url_from_endpoints(ROOT / "endpoints.yml", {})  # as `python -m rasa_runtime run` sets it: var/
    assert default is not None and default.database == str(VAR / "trackers.db")


def test_the_postgresql_store_of_endpoints_production_yml() -> None:
    env = {"AUSKUNFT_PG_HOST": "db.internal", "AUSKUNFT_PG_PORT": "5433", "AUSKUNFT_PG_DB": "rasa",
           "AUSKUNFT_PG_USER": "rasa", "AUSKUNFT_PG_PASSWORD": "s3cr:et"}
    url = url_from_endpoints(ROOT / "endpoints.production.yml", env)
    assert url is not None
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql", "db.internal", 5433, "rasa", "rasa", "s3cr:et"
    )


def test_an_explicit_url_wins_and_other_stores_are_refused(tmp_path: Path) -> None:
    assert str(configured_url({"AUSKUNFT_RASA_TRACKER_STORE_URL": "sqlite:////x/t.db"})) == "sqlite:////x/t.db"
    in_memory = tmp_path / "endpoints.yml"
    in_memory.write_text("action_endpoint:\n  url: http://x\n")
    assert url_from_endpoints(in_memory, {}) is None  # Rasa's in-memory store: nothing outlives Rasa
    mongo = tmp_path / "mongo.yml"
    mongo.write_text("tracker_store:\n  type: mongod\n  url: mongodb://localhost:27017\n")
    with pytest.raises(TrackerStoreUnsupported):
        url_from_endpoints(mongo, {})


def test_an_unsupported_store_is_a_clear_503_and_cli_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.db import get_session
    from bot.models import Contact, Role
    from tests.support.app import make_app
    from tests.support.gateway import ScriptedRasa
    from tests.support.login import logged_in

    mongo = tmp_path / "mongo.yml"
    mongo.write_text("tracker_store:\n  type: mongod\n  url: mongodb://localhost:27017\n")
    monkeypatch.setenv("AUSKUNFT_RASA_ENDPOINTS", str(mongo))
    monkeypatch.delenv("AUSKUNFT_RASA_TRACKER_STORE_URL", raising=False)
    app = make_app(tmp_path, ScriptedRasa())
    with app.app_context():
        get_session().add(Contact(email="a@example.com"))
        get_session().commit()
    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    response = admin.client.get("/admin/privacy/contacts/1/export.json")
    assert response.status_code == 503 and "AUSKUNFT_RASA_TRACKER_STORE_URL" in response.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["purge", "--older-than-days", "30"])
    assert result.exit_code == 1 and "SQL tracker store" in result.output
