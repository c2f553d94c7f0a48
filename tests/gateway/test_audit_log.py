"""The audit log (var/log/audit.log): logins, failed logins, logout, accounts and their roles, GDPR export and
erasure, purge — who by staff account number, what, when; never a customer's or a typed e-mail, phone or name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bot.db import get_session
from bot.models import Agent, Conversation, Role
from common.logging_setup import LogSettings, configure_logging
from tests.support import privacy
from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import PASSWORD, csrf_of, logged_in
from tests.support.logs import restored_logging
from tests.support.privacy import customer_with_everything

CUSTOMER_EMAIL, CUSTOMER_PHONE = "erika.muster@example.com", "0151 12345678"
stores, app = privacy.stores, privacy.app  # the gateway with Rasa's and the action server's stores


@pytest.fixture
def audit_log(tmp_path: Path) -> Iterator[Path]:
    """Logging as a real gateway sets it up, into tmp_path; pytest's own set-up comes back afterwards."""
    with restored_logging():
        configure_logging("gateway", LogSettings(dir=tmp_path / "log"))
        yield tmp_path / "log" / "audit.log"


def lines(path: Path) -> list[str]:
    """The audit lines without their time stamp (checked to be there)."""
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        when, what = line.split(" ", 1)
        assert when[:4].isdigit() and "T" in when, line
        result.append(what)
    return result


def agent_id(app: Flask, email: str) -> int:
    with app.app_context():
        return get_session().query(Agent).filter_by(email=email).one().id


def test_logins_failed_logins_and_logout_name_the_account_by_number_only(app: Flask, audit_log: Path) -> None:
    anna = logged_in(app, "anna.agentin@example.com", Role.AGENT)
    anna_id = agent_id(app, "anna.agentin@example.com")
    client = app.test_client()
    page = client.get("/agent/login").get_data(as_text=True)
    [csrf] = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    wrong = client.post("/agent/login", data={"email": "anna.agentin@example.com", "password": "falsch-falsch",
                                               "csrf_token": csrf})
    unknown = client.post("/agent/login", data={"email": "tipp.fehler@example.com", "password": PASSWORD,
                                                 "csrf_token": csrf})
    assert wrong.status_code == unknown.status_code == 401
    assert anna.client.post("/agent/logout", data={"csrf_token": anna.csrf}).status_code == 302
    assert lines(audit_log) == [
        f"login: agent {anna_id}",
        f"login failed: agent {anna_id}, wrong password",
        "login failed: unknown account",
        f"logout: agent {anna_id}",
    ]
    text = audit_log.read_text(encoding="utf-8")
    assert "@" not in text and "anna" not in text.lower() and "tipp" not in text


def test_export_and_erasure_name_the_customer_by_number_and_the_admin_by_number(
    app: Flask, rasa: ScriptedRasa, stores: tuple[Path, Path], audit_log: Path
) -> None:
    mine: Conversation = customer_with_everything(
        app, app.test_client(), rasa, *stores, CUSTOMER_EMAIL, CUSTOMER_PHONE
    )
    admin = logged_in(app, "chefin@example.com", Role.ADMIN)
    admin_id = agent_id(app, "chefin@example.com")
    assert admin.client.get(f"/admin/privacy/contacts/{mine.contact_id}/export.json").status_code == 200
    url = f"/admin/privacy/contacts/{mine.contact_id}/delete"
    page = admin.client.get(url).get_data(as_text=True)
    assert admin.client.post(url, data={"csrf_token": csrf_of(page), "confirm": "ja"}).status_code == 302
    login_line, export_line, erasure_line = lines(audit_log)
    assert login_line == f"login: agent {admin_id}"
    assert export_line == f"privacy export: contact {mine.contact_id} by agent {admin_id} (1 conversations)"
    assert erasure_line.startswith(f"privacy erasure: contact {mine.contact_id} by agent {admin_id}: ")
    text = audit_log.read_text(encoding="utf-8")
    for personal in (CUSTOMER_EMAIL, "erika", "1234567", "chefin", "Raten zahlen"):
        assert personal not in text.lower()


def test_accounts_created_with_their_role_and_a_purge_are_audited(
    app: Flask, stores: tuple[Path, Path], audit_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", PASSWORD)
    result = app.test_cli_runner().invoke(
        args=["create-agent", "eva.editorin@example.com", "--name", "Eva Editorin", "--role", "editor"]
    )
    assert result.exit_code == 0, result.output
    assert app.test_cli_runner().invoke(args=["purge", "--older-than-days", "30"]).exit_code == 0
    created, purged = lines(audit_log)
    assert created == f"account created: agent {agent_id(app, 'eva.editorin@example.com')}, role editor " \
                      "(by flask create-agent)"
    assert purged.startswith("purge older than 30 days (before ") and "by flask purge" in purged
    assert "eva" not in audit_log.read_text(encoding="utf-8").lower()


def test_a_transfer_names_the_conversation_and_both_accounts_by_number(
    app: Flask, rasa: ScriptedRasa, audit_log: Path
) -> None:
    rasa.replies.append(HANDOFF)
    customer = Customer(app.test_client())
    customer.say("Ich will einen Menschen")
    cid = conversation_id(app, customer.token)
    anna = logged_in(app, "anna.agentin@example.com", Role.AGENT, "Anna")
    logged_in(app, "bernd.agent@example.com", Role.AGENT, "Bernd")
    anna_id, bernd_id = agent_id(app, "anna.agentin@example.com"), agent_id(app, "bernd.agent@example.com")
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert anna.post(f"/agent/conversations/{cid}/transfer", {"agent_id": bernd_id}).status_code == 200
    assert lines(audit_log)[-1] == f"conversation transfer: conversation {cid} from agent {anna_id} to agent {bernd_id}"
    text = audit_log.read_text(encoding="utf-8").lower()
    assert "anna" not in text and "bernd" not in text and "@" not in text
