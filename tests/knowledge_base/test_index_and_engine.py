"""Index building (incremental by content hash), the engine's decisions and its robustness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.decision import NO_TEXT, Candidate, decide
from knowledge_base.engine import KnowledgeBase
from knowledge_base.faq_index import best_phrasings_score, build_index
from knowledge_base.settings import Settings, Thresholds
from tests.conftest import FakeEmbedder, write


def _entries(faq_dir: Path):
    return [located.entry for located in load_faqs(faq_dir).entries]


def test_rebuild_embeds_only_changed_texts(tmp_path: Path, faq_dir: Path, fake_embedder: FakeEmbedder) -> None:
    entries = _entries(faq_dir)
    cache = tmp_path / "cache"
    _, first = build_index(entries, fake_embedder, cache)
    assert (first.entries, first.texts, first.embedded) == (3, 12, 12)
    assert (cache / "embeddings.npz").exists() and (cache / "texts.faiss").exists()

    written = (cache / "embeddings.npz").stat().st_mtime_ns
    _, again = build_index(entries, fake_embedder, cache)
    assert again.embedded == 0
    assert (cache / "embeddings.npz").stat().st_mtime_ns == written  # nothing changed, nothing rewritten

    edited = entries[1].model_copy(update={"answer": "Der Versand kostet 3,95 €."})
    fake_embedder.encoded.clear()
    _, after_edit = build_index([entries[0], edited, entries[2]], fake_embedder, cache)
    assert after_edit.embedded == 1
    assert fake_embedder.encoded == ["Der Versand kostet 3,95 €."]


def test_index_search_finds_entry_by_alternative(faq_dir: Path, fake_embedder: FakeEmbedder) -> None:
    index, _ = build_index(_entries(faq_dir), fake_embedder, None)
    query = "Wann kommt mein Paket an?"
    signals = index.signals(fake_embedder.encode([query], "query")[0], query)
    assert int(np.argmax(signals.question)) == 0
    assert signals.question[0] > 0.75  # 0.75 × exact phrasing (1.0) + 0.25 × its sibling
    assert signals.lexical[0] == pytest.approx(1.0)


def test_entry_score_weighs_best_and_second_best_phrasing() -> None:
    owners = np.array([2, 0, 2, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5], dtype=np.float32)
    assert best_phrasings_score(owners, scores, 4).tolist() == pytest.approx(
        [0.75 * 0.8 + 0.25 * 0.5, 0.6, 0.75 * 0.9 + 0.25 * 0.7, -1.0]
    )


def test_dimension_mismatch_is_a_clear_error(faq_dir: Path, fake_embedder: FakeEmbedder) -> None:
    index, _ = build_index(_entries(faq_dir), fake_embedder, None)
    with pytest.raises(ValueError, match="query vector has 32 dimensions, index has 64"):
        index.signals(np.ones(32, dtype=np.float32), "x")


def _candidate(faq_id: str, score: float) -> Candidate:
    return Candidate(faq_id, faq_id, score, score, 0.0, 0.0)


THRESHOLDS = Thresholds(answer=0.8, margin=0.05, clarify=0.6, clarify_window=0.1)


@pytest.mark.parametrize(
    ("scores", "action", "options"),
    [
        ([0.9, 0.7, 0.5], "answer", ["a"]),
        ([0.9, 0.88, 0.5], "clarify", ["a", "b"]),  # confident but no clear winner
        ([0.7, 0.65, 0.62], "clarify", ["a", "b", "c"]),
        ([0.7, 0.5, 0.4], "clarify", ["a", "b"]),  # always offer at least two options
        ([0.55, 0.5, 0.4], "handoff", []),
        ([], "handoff", []),
    ],
)
def test_decision_rules(scores: list[float], action: str, options: list[str]) -> None:
    ranked = [_candidate(name, score) for name, score in zip("abc", scores, strict=False)]
    decision = decide(ranked, THRESHOLDS)
    assert decision.action == action
    if action == "answer":
        assert decision.faq_id == "a"
    if action == "clarify":
        assert [c.faq_id for c in decision.candidates] == options
    assert decision.confidence == (scores[0] if scores else 0.0)


@pytest.fixture
def kb(settings: Settings, fake_embedder: FakeEmbedder) -> KnowledgeBase:
    kb = KnowledgeBase(settings.model_copy(update={"thresholds": THRESHOLDS}), fake_embedder)
    assert kb.reload().findings == []
    return kb


def test_engine_answers_a_known_phrasing(kb: KnowledgeBase) -> None:
    decision = kb.ask("Was kostet der Versand?")
    assert decision.action == "answer" and decision.faq_id == "versand-kosten"
    assert decision.confidence > 0.8


@pytest.mark.parametrize(
    "question",
    ["", "   \n\t ", "😀🙈🚚", "\x00\x07\x1b[31m", "?!?!", "x" * 10_000, "Versand " * 2_000,
     "Where is my parcel, please?", "Où est mon colis ?", "Как дела?", "<script>alert(1)</script>"],
)
def test_odd_input_gets_a_defined_decision(kb: KnowledgeBase, question: str) -> None:
    decision = kb.ask(question)
    assert decision.action in {"answer", "clarify", "handoff"}
    assert 0.0 <= decision.confidence <= 1.0 + 1e-6


def test_input_without_text_is_handed_off_with_reason(kb: KnowledgeBase) -> None:
    for question in ["", "   ", "😀🙈", "\x00\x07"]:
        decision = kb.ask(question)
        assert (decision.action, decision.reason, decision.candidates) == ("handoff", NO_TEXT, [])


def test_broken_file_keeps_last_good_index(kb: KnowledgeBase, settings: Settings) -> None:
    before = kb.ask("Was kostet der Versand?")
    write(settings.faq_dir / "kaputt.yml", "topic: X\nfaqs:\n  - id: neu\n    question: [kaputt\n")
    collection = kb.reload()
    assert collection.errors and "kaputt.yml" in str(collection.errors[0])
    assert kb.ask("Was kostet der Versand?") == before
    assert set(kb.entries) == {"versand-lieferzeit", "versand-kosten", "retoure-frist"}


def test_reload_picks_up_edits(kb: KnowledgeBase, settings: Settings) -> None:
    write(
        settings.faq_dir / "konto.yml",
        """\
        topic: Konto
        faqs:
          - id: konto-passwort
            question: Ich habe mein Passwort vergessen
            answer: Nutzen Sie „Passwort vergessen?“.
            updated: 2026-11-20
        """,
    )
    assert kb.reload().errors == []
    assert kb.ask("Passwort vergessen").faq_id == "konto-passwort"


def test_first_load_with_errors_raises_clear_error(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    folder = tmp_path / "faqs"
    write(folder / "a.yml", "topic: X\nfaqs: []\n")
    kb = KnowledgeBase(Settings(faq_dir=folder, index_dir=tmp_path / "i"), fake_embedder)
    with pytest.raises(RuntimeError, match="errors and no index was ever built"):
        kb.ask("Hallo")



def test_a_second_refresh_of_the_same_files_builds_nothing(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    """The file watcher and an explicit reload after one save: the second gives the first's result, unbuilt."""
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    first = kb.refresh()
    assert kb.refresh() is first
    assert kb.check() == list(first.findings)
    faq = next(settings.faq_dir.glob("*.yml"))
    faq.write_text(faq.read_text().replace("Wie lange dauert die Lieferung?", "Wie lange braucht die Lieferung?"))
    second = kb.refresh()
    assert second is not first and second.accepted and second.changed
