"""One knowledge-base holder per process: loaded once, one file watcher, and the action server's actions and its
`POST /kb/reload` route serve from that same one."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic
from watchdog.observers.api import BaseObserver

from actions import actions
from knowledge_base import service
from knowledge_base.authoring.reload_report import ReloadResult
from knowledge_base.embedding import TextEmbedder
from knowledge_base.engine import KnowledgeBase
from knowledge_base.service import KnowledgeService
from knowledge_base.settings import Settings

T = TypeVar("T")
OLD_ANSWER = "Der Versand kostet 4,95 €, ab 50 € ist er kostenlos."
NEW_ANSWER = "Der Versand kostet jetzt 3,95 €."


def observers() -> set[threading.Thread]:
    """The running watchdog observers of this process (one per file watcher)."""
    return {t for t in threading.enumerate() if isinstance(t, BaseObserver) and t.is_alive()}


def at_once(call: Callable[[], T], callers: int = 8) -> list[T]:
    """`call` from `callers` threads released together; every result (a thread that raised leaves a gap)."""
    barrier = threading.Barrier(callers)
    results: dict[int, T] = {}

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == callers, "a caller failed"
    return list(results.values())


class Factory:
    """Builds the knowledge base on the temporary FAQ folder with the fake embedder; counts how often."""

    def __init__(self, settings: Settings, embedder: TextEmbedder) -> None:
        self.settings, self.embedder = settings, embedder
        self.built: list[KnowledgeBase] = []

    def __call__(self) -> KnowledgeBase:
        kb = KnowledgeBase(self.settings, embedder=self.embedder)
        self.built.append(kb)
        return kb


@pytest.fixture
def factory(settings: Settings, fake_embedder: TextEmbedder) -> Factory:
    return Factory(settings.model_copy(update={"use_trained_model": False}), fake_embedder)


@pytest.fixture
def no_shared_service() -> Iterator[None]:
    service.share(None)
    yield
    service.share(None)


def change_answer(faq_dir: Path) -> None:
    faq_file = faq_dir / "versand.yml"
    faq_file.write_text(faq_file.read_text(encoding="utf-8").replace(OLD_ANSWER, NEW_ANSWER), encoding="utf-8")


def test_callers_at_once_get_one_knowledge_base_and_one_watcher(factory: Factory) -> None:
    before = observers()
    holder = KnowledgeService(factory, watch=True)
    try:
        loaded = at_once(holder.knowledge_base)
        assert len(factory.built) == 1 and all(kb is factory.built[0] for kb in loaded)
        assert all(result.accepted for result in at_once(holder.reload))
        assert len(factory.built) == 1
        assert holder.watcher is not None and len(observers() - before) == 1
    finally:
        holder.close()
    assert observers() - before == set()


def test_the_first_reload_loads_and_is_reported_once(factory: Factory) -> None:
    reported: list[ReloadResult] = []
    holder = KnowledgeService(factory, on_reload=reported.append)
    first = holder.reload()
    assert first.accepted and first.entries == 3 and reported == [first]
    change_answer(factory.settings.faq_dir)
    second = holder.reload()
    assert second.changed == ("versand-kosten",) and reported == [first, second]
    assert holder.knowledge_base().entries["versand-kosten"].answer == NEW_ANSWER
    assert len(factory.built) == 1 and holder.watcher is None


def test_a_closed_service_starts_no_watcher_when_it_loads(factory: Factory) -> None:
    before = observers()
    holder = KnowledgeService(factory, watch=True)
    holder.close()
    holder.knowledge_base()
    assert holder.watcher is None and observers() - before == set()


def test_shared_gives_every_caller_the_same_service_without_loading(
    no_shared_service: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUSKUNFT_KB_WATCH", "false")
    first = at_once(service.shared)
    assert all(holder is first[0] for holder in first)
    assert service.shared() is first[0] and first[0].watcher is None
    service.share(None)
    assert service.shared() is not first[0]


def choose(faq_id: str) -> list[dict[str, Any]]:
    """The action server's "Meinten Sie" button for `faq_id`: the messages it sends."""
    tracker = Tracker("kunde-1", {"faq_id": faq_id}, {}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(actions.ActionChooseFaq().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_actions_and_the_reload_route_use_the_process_s_one_service(
    factory: Factory, no_shared_service: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.server import create_app

    monkeypatch.setattr(Sanic, "test_mode", True)  # rasa_sdk names every app alike; this test builds one more
    before = observers()
    service.share(KnowledgeService(factory, watch=True))
    assert choose("versand-kosten")[0]["text"] == OLD_ANSWER
    change_answer(factory.settings.faq_dir)
    route = next(r.handler for r in create_app(token="geheim").router.routes if r.path == "kb/reload")

    refused = asyncio.run(route(SimpleNamespace(headers={"authorization": "Bearer falsch"})))
    assert refused.status == 401
    answered = asyncio.run(route(SimpleNamespace(headers={"authorization": "Bearer geheim"})))
    assert answered.status == 200 and json.loads(answered.body)["changed"] == ["versand-kosten"]

    assert choose("versand-kosten")[0]["text"] == NEW_ANSWER
    assert len(factory.built) == 1 and len(observers() - before) == 1
    service.share(None)
    assert observers() - before == set()
