"""`train`: fine-tuning on the knowledge base, cached by content, swapped into a running engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge_base import query_model, training
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings

pytestmark = pytest.mark.slow


def test_training_pairs_use_prompts_and_cover_alternatives_and_answers(faq_dir: Path) -> None:
    entries = [e.entry for e in load_faqs(faq_dir).entries]
    pairs = training.training_pairs(entries, "query: ", "passage: ")
    assert ("query: Wann kommt mein Paket an?", "query: Wie lange dauert die Lieferung?") in pairs
    assert ("query: Wie lange dauert die Lieferung?", "passage: Wir liefern in **2–3 Werktagen**.") in pairs
    held = training.held_out(entries)
    # for calibration, by hash (stable): HOLD_OUT_AT_LEAST, but at most half of the 6 alternatives
    assert held == ["Bis wann Rücksendung möglich", "Lieferzeit Deutschland", "Versandkosten Höhe"]
    assert not any(anchor.removeprefix("query: ") in held for anchor, _ in pairs)
    assert len(pairs) == 6 - 3 + 3


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> tuple[Settings, training.TrainingResult]:
    from tests.conftest import SMALL_KB, write

    root = tmp_path_factory.mktemp("training")
    write(root / "faqs" / "versand.yml", SMALL_KB)
    settings = Settings(faq_dir=root / "faqs", index_dir=root / "index", models_dir=root / "models",
                        embedding_model=real_embedder.model_name_or_path)
    collection = load_faqs(settings.faq_dir)
    PROGRESS.clear()
    result = training.train(settings, [e.entry for e in collection.entries], collection.content_hash(),
                            str(settings.faq_dir.resolve()), show_progress=False, progress=PROGRESS.append)
    return settings, result


PROGRESS: list[str] = []
"""The progress lines of the `trained` run (what `var/train.log` shows)."""


def test_training_writes_a_loadable_model_with_marker(trained) -> None:
    settings, result = trained
    assert not result.cached and result.pairs == 6  # 3 questions -> answers, 3 of 6 alternatives
    marker = json.loads((result.path / training.MARKER).read_text())
    assert marker["pairs"] == 6 and marker["source"] == str(settings.faq_dir.resolve())
    assert "Bis wann Rücksendung möglich" not in marker["trained_phrasings"]
    assert "Rückgabefrist Tage" in marker["trained_phrasings"]
    assert (result.path / "model.safetensors").exists()
    assert not list(settings.trained_models_dir.glob("*.partial"))


def test_training_reports_steps_elapsed_and_time_left(trained) -> None:
    assert PROGRESS[0].startswith("training on 6 pairs from 3 entries")
    steps = [line for line in PROGRESS if line.startswith("training: ") and "ETA" in line]
    total = int(steps[-1].split("/")[1].split()[0])
    assert total >= 1 and steps[-1].startswith(f"training: {total}/{total} steps")
    assert PROGRESS[-2].startswith("exporting") and PROGRESS[-1].startswith("done in ")


def test_training_leaves_the_word_embeddings_as_they_were(trained, real_embedder) -> None:
    """Frozen: most of the model's weights need no gradients or optimizer state (RAM and time)."""
    from safetensors.numpy import load_file

    _, result = trained
    base = load_file(str(Path(real_embedder.model_name_or_path) / "model.safetensors"))
    tuned = load_file(str(result.path / "model.safetensors"))
    name = next(key for key in base if key.endswith("word_embeddings.weight"))
    assert np.array_equal(base[name], tuned[name])
    changed = [key for key in base if key.endswith("query.weight") and not np.array_equal(base[key], tuned[key])]
    assert changed  # the rest of the model did learn


def test_training_exports_the_fine_tuned_model_for_fast_questions(trained) -> None:
    settings, result = trained
    assert query_model.exported_model(settings.query_exports_dir, result.path) is not None
    fast = query_model.load(settings.query_exports_dir, result.path, threads=1)
    assert fast is not None and fast.encode(["query: Wann kommt mein Paket an?"]).shape == (1, 384)


def test_second_training_is_cached(trained) -> None:
    settings, result = trained
    collection = load_faqs(settings.faq_dir)
    again = training.train(settings, [e.entry for e in collection.entries], collection.content_hash(),
                           str(settings.faq_dir.resolve()))
    assert again.cached and again.path == result.path


def test_find_trained_model_exact_fallback_and_other_sources(trained) -> None:
    settings, result = trained
    source = str(settings.faq_dir.resolve())
    content = load_faqs(settings.faq_dir).content_hash()
    assert training.find_trained_model(settings, content, source) == result.path
    # after an edit the previous model of the same knowledge base keeps serving
    assert training.find_trained_model(settings, "edited-content", source) == result.path
    # a model trained on another knowledge base is never used
    assert training.find_trained_model(settings, "edited-content", "/other/faqs") is None
    other_base = settings.model_copy(update={"embedding_model": "some/other-model"})
    assert training.find_trained_model(other_base, "edited-content", source) is None


def test_engine_starts_on_base_model_and_swaps_in_trained(trained, real_embedder) -> None:
    settings, result = trained
    kb = KnowledgeBase(settings.model_copy(update={"use_trained_model": False}))
    kb.reload()
    assert not kb.using_trained_model
    kb.settings = settings  # training finished meanwhile
    assert kb.use_trained_model_if_ready()
    assert kb.using_trained_model
    assert kb.served.embedder.model_name_or_path == str(result.path)
    assert kb.ask("Was kostet der Versand?").faq_id == "versand-kosten"
    assert not kb.use_trained_model_if_ready()  # already swapped
    # calibrated on the phrasings it never learnt; this small knowledge base holds too few of them
    assert "zu wenige Formulierungen" in kb.snapshot().calibration.note


def test_background_training_skips_trained_content_and_stops_with_the_service(trained, tmp_path) -> None:
    settings, _ = trained
    with training.training_in_background(settings, tmp_path / "train.log") as process:
        assert process is None  # this exact content is trained already
    edited = settings.model_copy(update={"faq_dir": tmp_path / "faqs", "models_dir": tmp_path / "models"})
    from tests.conftest import SMALL_KB, write

    write(edited.faq_dir / "versand.yml", SMALL_KB.replace("4,95 €", "3,95 €"))
    with training.training_in_background(edited, tmp_path / "train.log") as process:
        assert process is not None and process.poll() is None
    assert process.returncode is not None  # leaving the block stopped the unfinished run
    assert not list(edited.trained_models_dir.glob("*/training.json"))


def test_the_background_training_dies_with_a_killed_service(tmp_path: Path) -> None:
    """SIGKILL of `python -m bot run` must not leave `knowledge_base train` (GBs of RAM, both cores) running."""
    pid_file = tmp_path / "child.pid"
    service = subprocess.Popen(
        [sys.executable, "-c", (
            "import os, subprocess, sys, time\n"
            "from knowledge_base.training import _low_priority_and_dies_with_parent\n"
            "child = subprocess.Popen(['sleep', '60'], start_new_session=True,"
            " preexec_fn=_low_priority_and_dies_with_parent())\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(60)\n"
        )],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the service did not start its child"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert os.getpriority(os.PRIO_PROCESS, child) >= 10  # low priority: the customers' answers come first
    service.send_signal(signal.SIGKILL)
    service.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, "the training child outlived its killed parent"
        time.sleep(0.05)
