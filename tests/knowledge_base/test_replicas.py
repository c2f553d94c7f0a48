"""Several replicas on one FAQ folder and one Redis (`AUSKUNFT_REDIS_URL`): a reload reaches all of them through
the broadcast, and FAQ writes from different processes never overwrite each other.

The replicas here are two `KnowledgeService`s (fake embedder, no file watcher: on a network volume the watcher may
see nothing) and, for the writes, two processes (tests/support/faq_writer.py), whose writes are slowed so that
they surely overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from knowledge_base.authoring.faq_alternatives import add_alternatives
from knowledge_base.authoring.faq_editing import file_hash
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.authoring.write_lock import LOCK_NAME, FaqsBusy, faq_writing
from knowledge_base.embedding import TextEmbedder
from knowledge_base.engine import KnowledgeBase
from knowledge_base.service import KnowledgeService
from knowledge_base.settings import Settings
from tests.support.net import free_port
from tests.support.redis_db import test_redis_url

ROOT = Path(__file__).resolve().parents[2]
OLD_ANSWER = "Der Versand kostet 4,95 €, ab 50 € ist er kostenlos."
NEW_ANSWER = "Der Versand kostet jetzt 3,95 €."


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = test_redis_url()
    client = redis.Redis.from_url(url)
    client.delete(LOCK_NAME)
    yield url
    client.delete(LOCK_NAME)
    client.close()


def replica(settings: Settings, embedder: TextEmbedder, redis_url: str) -> KnowledgeService:
    """One process's holder on the shared folder, listening on the broadcast; loaded."""
    replica_settings = settings.model_copy(update={"use_trained_model": False, "redis_url": SecretStr(redis_url)})
    holder = KnowledgeService(lambda: KnowledgeBase(replica_settings, embedder=embedder, persist=False))
    holder.knowledge_base()
    return holder


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def test_a_reload_on_one_replica_reaches_the_other(settings: Settings, fake_embedder: TextEmbedder,
                                                   redis_url: str) -> None:
    first, second = (replica(settings, fake_embedder, redis_url) for _ in range(2))
    try:
        assert first.broadcast is not None and second.broadcast is not None
        faq_file = settings.faq_dir / "versand.yml"
        faq_file.write_text(faq_file.read_text(encoding="utf-8").replace(OLD_ANSWER, NEW_ANSWER), encoding="utf-8")
        assert first.reload().changed == ("versand-kosten",)
        eventually(lambda: second.knowledge_base().entries["versand-kosten"].answer == NEW_ANSWER)
        assert second.knowledge_base().files_version == first.knowledge_base().files_version
    finally:
        first.close()
        second.close()


def test_without_redis_no_replica_listens(settings: Settings, fake_embedder: TextEmbedder) -> None:
    holder = replica(settings, fake_embedder, "")
    try:
        assert holder.broadcast is None and holder.reload().accepted
    finally:
        holder.close()


def write_in_processes(tmp_path: Path, *writes: list[str]) -> list[str]:
    """Each `write` (faq_writer arguments) in its own process, released together; their outcomes."""
    go = tmp_path / "go"
    writers = [
        subprocess.Popen([sys.executable, "-m", "tests.support.faq_writer", *args, "--go", str(go)],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for args in writes
    ]
    time.sleep(1.0)  # let both import before they start (they wait for `go` either way)
    go.touch()
    outputs = [writer.communicate(timeout=120)[0] for writer in writers]
    assert all(writer.returncode == 0 for writer in writers), outputs
    return [json.loads(output.strip().splitlines()[-1])["outcome"] for output in outputs]


def test_two_replicas_adding_alternatives_at_once_both_keep_their_phrasing(faq_dir: Path, redis_url: str,
                                                                          tmp_path: Path) -> None:
    phrasings = ["Versand nach Österreich Preis", "Portokosten Paket"]
    outcomes = write_in_processes(
        tmp_path, *(["add", str(faq_dir), "versand-kosten", text, "--redis-url", redis_url] for text in phrasings)
    )
    assert outcomes == ["written", "written"]
    entry = next(e.entry for e in load_faqs(faq_dir).entries if e.entry.id == "versand-kosten")
    assert all(text in entry.alternatives for text in phrasings), entry.alternatives


def test_two_editors_saving_the_same_version_on_two_replicas_only_the_first_is_written(
    faq_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    opened = file_hash(faq_dir / "versand.yml")  # both forms were opened on this version
    answers = ["Der Versand kostet jetzt 3,95 €.", "Der Versand kostet jetzt 5,95 €."]
    outcomes = write_in_processes(
        tmp_path,
        *(["edit", str(faq_dir), "versand-kosten", text, "--redis-url", redis_url, "--base-hash", opened]
          for text in answers),
    )
    assert sorted(outcomes) == ["stale", "written"]
    served = next(e.entry for e in load_faqs(faq_dir).entries if e.entry.id == "versand-kosten").answer
    assert served == answers[outcomes.index("written")]


def test_a_write_lock_held_elsewhere_or_redis_down_writes_nothing(faq_dir: Path, redis_url: str) -> None:
    before = (faq_dir / "versand.yml").read_text(encoding="utf-8")
    other_replica = redis.Redis.from_url(redis_url).lock(LOCK_NAME, timeout=30)
    assert other_replica.acquire(blocking=False)
    try:
        with pytest.raises(FaqsBusy, match="held the FAQ write lock"), faq_writing(redis_url, wait=0.5):
            pytest.fail("entered while another replica holds the lock")
    finally:
        other_replica.release()
    with pytest.raises(FaqsBusy, match="cannot take"):
        add_alternatives(faq_dir, "versand-kosten", ["Porto?"], f"redis://127.0.0.1:{free_port()}/0")
    assert (faq_dir / "versand.yml").read_text(encoding="utf-8") == before
    with faq_writing(redis_url, wait=0.5):  # released: the next writer gets it at once
        pass
