"""The pairs the service learned, as `train` sees them: read from the gateway's file, only for the served FAQ
folder, paired like alternatives, and part of the trained model's key (no training run here)."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge_base import learned_pairs, training
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.settings import Settings

PAIRS = [("Muss ich fürs Porto zahlen?", "versand-kosten"), ("Wo bleibt mein Paket?", "versand-lieferzeit")]


def test_written_pairs_read_back_sorted_and_once(tmp_path: Path) -> None:
    path = tmp_path / "var" / "learned_pairs.jsonl"
    assert learned_pairs.read(path) == []
    assert learned_pairs.write(path, [*PAIRS, PAIRS[0]]) == 2
    assert learned_pairs.read(path) == sorted(PAIRS)
    assert json.loads(path.read_text().splitlines()[0]) == {"question": PAIRS[0][0], "faq_id": "versand-kosten"}
    path.write_text(path.read_text() + "kein json\n" + json.dumps({"question": 1}) + "\n")
    assert learned_pairs.read(path) == sorted(PAIRS)  # what is not a pair is skipped
    assert not list(path.parent.glob(".*.tmp"))


def test_the_file_sits_beside_the_index_unless_configured(tmp_path: Path) -> None:
    assert Settings(index_dir=tmp_path / "var" / "index").learned_pairs_path == tmp_path / "var" / "learned_pairs.jsonl"
    assert Settings(learned_pairs_file=tmp_path / "p.jsonl").learned_pairs_path == tmp_path / "p.jsonl"


def test_only_the_served_faq_folder_gets_the_pairs(settings: Settings) -> None:
    learned_pairs.write(settings.learned_pairs_path, PAIRS)
    assert learned_pairs.for_source(settings, str(settings.faq_dir)) == sorted(PAIRS)
    assert learned_pairs.for_source(settings, str(settings.faq_dir.resolve())) == sorted(PAIRS)
    assert learned_pairs.for_source(settings, "/eval/covidqa.jsonl") == []  # `eval`, benchmarks: none
    assert learned_pairs.for_source(settings, None) == []


def test_train_pairs_a_learned_question_with_its_entrys_question(faq_dir: Path) -> None:
    entries = [e.entry for e in load_faqs(faq_dir).entries]
    plain = training.training_pairs(entries, "query: ", "passage: ")
    learned = [*PAIRS, ("Was kostet ein Gutschein?", "gibt-es-nicht"),
               ("wann kommt mein paket an?", "versand-lieferzeit")]
    pairs = training.training_pairs(entries, "query: ", "passage: ", learned)
    assert pairs[: len(plain)] == plain
    assert pairs[len(plain):] == [
        ("query: Muss ich fürs Porto zahlen?", "query: Was kostet der Versand?"),
        ("query: Wo bleibt mein Paket?", "query: Wie lange dauert die Lieferung?"),
    ]  # a removed entry's pair and one already among the entry's phrasings are left out


def test_new_pairs_change_the_model_key_so_train_trains_again(settings: Settings) -> None:
    source = str(settings.faq_dir.resolve())
    before = training.model_key(settings, "content")
    assert training.model_key(settings, "content", []) == before  # no pairs: the key models had before
    learned_pairs.write(settings.learned_pairs_path, PAIRS)
    with_pairs = training.model_key(settings, "content", learned_pairs.for_source(settings, source))
    assert with_pairs != before
    learned_pairs.write(settings.learned_pairs_path, PAIRS[:1])
    assert training.model_key(settings, "content", learned_pairs.for_source(settings, source)) not in (
        before, with_pairs)


def test_the_engine_finds_the_model_trained_with_the_current_pairs(settings: Settings) -> None:
    """An older model for the same FAQ content, trained before the pairs, no longer counts as exact."""
    source = str(settings.faq_dir.resolve())

    def fake_model(key: str, completed_at: float) -> Path:
        folder = settings.trained_models_dir / key
        folder.mkdir(parents=True)
        (folder / training.MARKER).write_text(json.dumps({
            "version": training.TRAINING_VERSION, "base_model": settings.embedding_model, "source": source,
            "completed_at": completed_at}))
        return folder

    without = fake_model(training.model_key(settings, "content"), 2.0)
    assert training.find_trained_model(settings, "content", source) == without
    learned_pairs.write(settings.learned_pairs_path, PAIRS)
    with_pairs = fake_model(training.model_key(settings, "content", learned_pairs.for_source(settings, source)), 1.0)
    assert training.find_trained_model(settings, "content", source) == with_pairs
