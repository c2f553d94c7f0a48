"""Live reload across the real processes: Rasa, the action server (`python -m actions.server`) and the gateway,
all reading one temporary copy of the demo FAQ, with the real e5 model.

- an editor turns an unanswered question into an answered one in the browser and the files, within a minute;
- customers keep getting answers while the FAQ is reloaded again and again (none fails);
- a broken file is rejected by both processes (422, file:line), and the bot keeps the last good answers;
- the action server's own file watcher picks up a saved file without anyone calling it.

The stack is this module's own (free ports, its own FAQ folder), not the session's shared `rasa_services`,
whose FAQ folder is the repository's.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from bot.integrations.rasa_client import RasaClient
from bot.models import Role
from knowledge_base.reload_token import authorization_header, reload_token
from knowledge_base.settings import PROJECT_ROOT, Settings
from rasa_runtime import training
from rasa_runtime.paths import RASA
from rasa_runtime.processes import Services
from rasa_runtime.processes import Settings as RasaSettings
from tests.support.app import faq_search, make_app
from tests.support.browser import chromium, log_in
from tests.support.faq_browser import FAQ_PAGE, click_reload, try_question
from tests.support.faq_edits import BROKEN_ENTRY, append_entry, replace_in
from tests.support.login import AgentSession, add_account
from tests.support.net import free_port

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

OLD_PRICE = "kostet **4,95 €**"
NEW_PRICE = "kostet **3,95 €**"
BITCOIN_QUESTION = "Kann ich mit Bitcoin bezahlen?"
BITCOIN_ANSWER = "Nein, Bitcoin und andere Kryptowährungen nehmen wir leider nicht an."
BITCOIN_ENTRY = f"""\
  - id: zahlung-bitcoin
    question: {BITCOIN_QUESTION}
    alternatives:
      - Nehmt ihr Kryptowährungen?
      - Bezahlung mit Bitcoin oder Ethereum
    answer: {BITCOIN_ANSWER}
    updated: 2026-11-25
"""
TECHNICAL_PROBLEM = "technisch"


@dataclass
class Stack:
    services: Services
    faq_dir: Path
    app: Flask
    url: str

    @property
    def versand(self) -> Path:
        return self.faq_dir / "versand.yml"

    def ask_bot(self, question: str) -> str:
        """A new customer asks Rasa (REST channel) once; all the bot's texts."""
        response = requests.post(
            f"{self.services.settings.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"reload-{uuid.uuid4().hex[:10]}", "message": question},
            timeout=120,
        )
        response.raise_for_status()
        return " ".join(reply.get("text", "") for reply in response.json())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not RASA.exists():
        pytest.fail(f"{RASA} is missing: run `make setup` (it installs Rasa from constraints-rasa.txt)")
    training.ensure_trained()
    work = tmp_path_factory.mktemp("reload-live")
    faq_dir = shutil.copytree(PROJECT_ROOT / "knowledge_base" / "faqs", work / "faqs")
    index_dir = work / "index"
    if (PROJECT_ROOT / "var" / "index").exists():  # the embeddings of the demo FAQ: start in seconds
        shutil.copytree(PROJECT_ROOT / "var" / "index", index_dir)
    env = {
        "AUSKUNFT_FAQ_DIR": str(faq_dir),
        "AUSKUNFT_INDEX_DIR": str(index_dir),
        "AUSKUNFT_USE_TRAINED_MODEL": "false",
        "AUSKUNFT_FEEDBACK_DB": str(work / "feedback.db"),
        "AUSKUNFT_ORDERS_DB": str(work / "orders.db"),
        "AUSKUNFT_ORDER_API_URL": "",
    }
    settings = RasaSettings(
        rasa_port=free_port(), actions_port=free_port(), tracker_db=work / "trackers.db", log_dir=work, extra_env=env
    )
    kb_settings = Settings(faq_dir=faq_dir, index_dir=index_dir, models_dir=work / "models", use_trained_model=False)
    with Services(settings) as services:
        services.wait_until_ready()
        app = make_app(work, RasaClient(settings.rasa_url, timeout=120), FAQ_SEARCH=faq_search(kb_settings),
                       ACTIONS_URL=settings.actions_url)
        add_account(app, "eva@example.com", Role.EDITOR)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield Stack(services, faq_dir, app, f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            app.config["FAQ_SEARCH"].close()


@pytest.fixture
def pristine(stack: Stack) -> Iterator[Stack]:
    """Each test starts from the demo FAQ and leaves it so (reloaded in both processes)."""
    original = (PROJECT_ROOT / "knowledge_base" / "faqs" / "versand.yml").read_text(encoding="utf-8")
    yield stack
    stack.versand.write_text(original, encoding="utf-8")
    editor = AgentSession(stack.app, "eva@example.com")
    assert editor.reload().status_code == 200


def eventually(check: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "not within the time"
        time.sleep(0.2)
    return time.monotonic() - started


def test_editor_makes_the_bot_answer_an_unanswered_question_within_a_minute(pristine: Stack) -> None:
    stack = pristine
    assert BITCOIN_ANSWER not in stack.ask_bot(BITCOIN_QUESTION)
    with chromium() as browser:
        log_in(browser, stack.url, "eva@example.com", next_path=FAQ_PAGE)
        assert "zahlung-bitcoin" not in try_question(browser, BITCOIN_QUESTION, timeout=60)["candidates"]
        started = time.monotonic()
        append_entry(stack.versand, BITCOIN_ENTRY)  # the editor's edit in the file
        status, text = click_reload(browser)
        assert status == 200 and "neu: zahlung-bitcoin" in text, text
        tried = try_question(browser, BITCOIN_QUESTION)
        assert tried["decision"] == "answer" and tried["candidates"][0] == "zahlung-bitcoin"
        assert BITCOIN_ANSWER in stack.ask_bot(BITCOIN_QUESTION)  # a customer now gets the answer
        assert time.monotonic() - started < 60


def test_customers_keep_getting_answers_while_the_faq_reloads(pristine: Stack) -> None:
    stack = pristine
    editor = AgentSession(stack.app, "eva@example.com")
    replies: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def customer() -> None:
        while not stop.is_set():
            try:
                replies.append(stack.ask_bot("Was kostet der Versand?"))
            except BaseException as error:  # a timeout, a 500: every failure counts
                errors.append(error)

    customers = [threading.Thread(target=customer, daemon=True) for _ in range(3)]
    for thread in customers:
        thread.start()
    reports: list[dict[str, Any]] = []
    try:
        for round_ in range(4):
            old, new = (OLD_PRICE, NEW_PRICE) if round_ % 2 == 0 else (NEW_PRICE, OLD_PRICE)
            replace_in(stack.versand, old, new)
            response = editor.reload()
            assert response.status_code == 200, response.json
            reports.append(response.json)
            time.sleep(0.5)
        replace_in(stack.versand, OLD_PRICE, NEW_PRICE)
        assert editor.reload().status_code == 200
    finally:
        stop.set()
        for thread in customers:
            thread.join(150)
    assert errors == []
    assert len(replies) >= 6 and all("4,95 €" in reply or "3,95 €" in reply for reply in replies), replies
    assert not any(TECHNICAL_PROBLEM in reply for reply in replies)
    for report in reports:
        for process in ("gateway", "actions"):
            assert report["processes"][process]["changed"] == ["versand-kosten"], report
            assert report["processes"][process]["seconds"]["total"] < 5
    assert "3,95 €" in stack.ask_bot("Was kostet der Versand?")  # the last edit is what customers get


def test_broken_file_is_rejected_by_both_processes_and_the_bot_keeps_answering(pristine: Stack) -> None:
    stack = pristine
    editor = AgentSession(stack.app, "eva@example.com")
    replace_in(stack.versand, OLD_PRICE, NEW_PRICE)
    line = len(stack.versand.read_text().splitlines()) + 1
    append_entry(stack.versand, BROKEN_ENTRY)
    response = editor.reload()
    assert response.status_code == 422
    body = response.json
    assert body["processes"]["gateway"]["accepted"] is False and body["processes"]["actions"]["accepted"] is False
    assert {(f["file"], f["line"]) for f in body["findings"] if f["severity"] == "error"} == {
        (str(stack.versand), line)
    }
    reply = stack.ask_bot("Was kostet der Versand?")
    assert "4,95 €" in reply and "3,95 €" not in reply  # the last good index, in the bot too


def test_the_action_server_watches_the_files_itself(pristine: Stack) -> None:
    stack = pristine
    assert "4,95 €" in stack.ask_bot("Was kostet der Versand?")
    replace_in(stack.versand, OLD_PRICE, NEW_PRICE)  # saved; nobody presses reload
    seconds = eventually(lambda: "3,95 €" in stack.ask_bot("Was kostet der Versand?"), timeout=30)
    assert seconds < 10


def test_the_action_servers_reload_needs_the_token(stack: Stack) -> None:
    url = f"{stack.services.settings.actions_url}/kb/reload"
    assert requests.post(url, timeout=30).status_code == 401
    assert requests.post(url, headers={"Authorization": "Bearer falsch"}, timeout=30).status_code == 401
    response = requests.post(url, headers=authorization_header(reload_token()), timeout=120)
    assert response.status_code == 200 and response.json()["accepted"] is True
