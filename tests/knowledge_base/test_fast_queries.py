"""Fast questions: the int8 ONNX export, keyed by the weights; the question cache; the served path uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from knowledge_base import query_model
from knowledge_base.embedding import SentenceTransformerEmbedder, _QuestionCache, question_vector
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import PROJECT_ROOT, Settings
from tests.conftest import REAL_MODEL

HEAVY_MODULES = ("torch", "spacy", "thinc", "sentence_transformers", "transformers")

GERMAN_QUESTIONS = [
    "Wo ist mein Paket?",
    "wie kann ich zurückschicken",
    "Kann ich mit PayPal bezahlen?",
    "Die Lieferung ist beschädigt angekommen, was nun?",
    "versandkosten österreich",
    "Ich möchte mein Passwort ändern, aber die E-Mail kommt nicht an.",
]


def test_the_export_folder_follows_the_weights_not_the_folder_name(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    model = tmp_path / "model.partial"
    assert query_model.export_folder(exports, model) is None  # no weights: e.g. a hub name
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(b"w" * 100)
    first = query_model.export_folder(exports, model)
    renamed = model.rename(tmp_path / "model")
    assert query_model.export_folder(exports, renamed) == first  # `train` renames the folder after exporting
    os.utime(renamed / "model.safetensors", ns=(1, 1))
    assert query_model.export_folder(exports, renamed) != first  # new weights, new export
    assert query_model.exported_model(exports, renamed) is None
    assert query_model.load(exports, renamed) is None  # not exported: the full model serves


def test_the_question_cache_keeps_the_most_recent_and_hands_out_read_only_vectors() -> None:
    cache = _QuestionCache(2)
    for text in ("a", "b"):
        cache.put(text, np.ones(3, dtype=np.float32))
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", np.zeros(3, dtype=np.float32))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    with pytest.raises(ValueError):
        cache.get("a")[0] = 5.0


def test_a_repeated_question_is_embedded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = SentenceTransformerEmbedder("not-loaded", query_exports=None)
    calls: list[list[str]] = []

    def encode(texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        calls.append(texts)
        return np.full((len(texts), 4), 0.5, dtype=np.float32)

    monkeypatch.setattr(embedder, "encode", encode)
    first = embedder.encode_question("versandkosten")
    again = question_vector(embedder, "versandkosten")
    question_vector(embedder, "lieferzeit")
    assert calls == [["versandkosten"], ["lieferzeit"]]
    assert again is first


def test_an_embedder_without_a_fast_path_is_asked_as_before(fake_embedder) -> None:
    vector = question_vector(fake_embedder, "Wo ist mein Paket?")
    assert fake_embedder.encoded == ["Wo ist mein Paket?"]
    assert np.allclose(vector, fake_embedder.encode(["Wo ist mein Paket?"], "query")[0])


def test_the_full_model_is_dropped_only_where_the_export_answers_the_questions(tmp_path: Path) -> None:
    without_export = SentenceTransformerEmbedder("not-loaded", query_exports=None)
    without_export.__dict__["model"] = full = object()
    assert not without_export.release_full_model()
    assert without_export.__dict__["model"] is full  # it still embeds every question
    with_export = SentenceTransformerEmbedder("not-loaded", query_exports=tmp_path)
    with_export.__dict__.update(model=object(), query_model=object())
    assert with_export.release_full_model()
    assert "model" not in with_export.__dict__  # loaded again by the next `encode`
    assert not with_export.release_full_model()


def _modules_loaded_by(code: str) -> list[str]:
    """The heavy modules a fresh interpreter has imported after running `code`."""
    script = f"{textwrap.dedent(code)}\nprint(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", "import json, sys\n" + script], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_lexical_matching_and_the_engine_load_neither_torch_nor_spacy() -> None:
    loaded = _modules_loaded_by("""
        from knowledge_base.engine import KnowledgeBase
        from knowledge_base.lexical import LexicalIndex
        index = LexicalIndex(["Was kosten Versand und Rücksendung?", "Wie lange dauert die Lieferung?"])
        assert index.coverage("Versandkosten bitte")[0] == 1.0
        assert index.analyzer.terms("Wo sind meine Pakete?") == ["paket"]  # stop words and lemmas as before
    """)
    assert loaded == []


def test_switched_off_the_embedders_get_no_exports(tmp_path: Path) -> None:
    assert Settings(models_dir=tmp_path).fast_query_exports == tmp_path / "query-onnx"
    assert Settings(models_dir=tmp_path, fast_queries=False).fast_query_exports is None


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = Settings(models_dir=tmp_path_factory.mktemp("models")).query_exports_dir
    query_model.export(exports, REAL_MODEL)
    return exports


@pytest.mark.slow
def test_the_int8_query_vectors_match_the_full_model(exported: Path, real_embedder) -> None:
    fast = query_model.load(exported, REAL_MODEL, threads=1)
    assert fast is not None
    reference = real_embedder.encode(GERMAN_QUESTIONS, "query")
    vectors = fast.encode(["query: " + q for q in GERMAN_QUESTIONS])
    cosines = (reference * vectors).sum(axis=1)
    assert cosines.min() >= 0.99, dict(zip(GERMAN_QUESTIONS, cosines.round(4), strict=True))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_the_export_is_made_once_and_served(exported: Path, faq_dir: Path) -> None:
    onnx_file = query_model.exported_model(exported, REAL_MODEL)
    assert onnx_file is not None
    stamp = onnx_file.stat().st_mtime_ns
    assert query_model.export(exported, REAL_MODEL) == onnx_file and onnx_file.stat().st_mtime_ns == stamp
    settings = Settings(faq_dir=faq_dir, embedding_model=str(REAL_MODEL), models_dir=exported.parent,
                        use_trained_model=False)
    kb = KnowledgeBase(settings, persist=False)
    embedder = kb.snapshot().embedder
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.query_model is not None
    assert kb.rank("Wann kommt mein Paket an?")[0].faq_id == "versand-lieferzeit"


@pytest.mark.slow
def test_a_served_index_answers_questions_without_the_full_model(exported: Path, faq_dir: Path,
                                                                 tmp_path: Path) -> None:
    settings = Settings(faq_dir=faq_dir, embedding_model=str(REAL_MODEL), models_dir=exported.parent,
                        index_dir=tmp_path / "index", use_trained_model=False, keep_full_model=False)
    kb = KnowledgeBase(settings)
    embedder = kb.snapshot().embedder
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert "model" not in embedder.__dict__  # the build needed it, serving does not
    assert kb.rank("Wann kommt mein Paket an?")[0].faq_id == "versand-lieferzeit"
    assert "model" not in embedder.__dict__

    for keep in (False, True):  # a later build (here of the same entries) loads it and, unless kept, drops it
        kb = KnowledgeBase(settings.model_copy(update={"keep_full_model": keep}))
        kb.snapshot().embedder.encode(["Versand"], "passage")
        kb.load_entries(list(kb.entries.values()), "tests")
        assert ("model" in kb.snapshot().embedder.__dict__) is keep

    restarted = _modules_loaded_by(f"""
        from pathlib import Path
        from knowledge_base.engine import KnowledgeBase
        from knowledge_base.settings import Settings
        kb = KnowledgeBase(Settings(faq_dir=Path({str(faq_dir)!r}), models_dir=Path({str(exported.parent)!r}),
                                    embedding_model={str(REAL_MODEL)!r}, index_dir=Path({str(tmp_path / "index")!r}),
                                    use_trained_model=False))
        assert kb.last_stats is None or kb.last_stats.embedded == 0
        assert kb.rank("Wann kommt mein Paket an?")[0].faq_id == "versand-lieferzeit"
        assert kb.last_stats.embedded == 0
    """)
    assert restarted == []  # a restart on a built index: no PyTorch, no spaCy in the serving process
