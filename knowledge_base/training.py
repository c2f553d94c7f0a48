"""Domain adaptation: fine-tune the embedding model on the knowledge base's own pairs.

Each alternative is paired with its question and each question with its answer;
MultipleNegativesRankingLoss pulls the pairs together and pushes the other
entries in the batch apart. Results are cached by content hash; the engine
falls back to the base model while no trained model exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.child_processes import die_with_parent
from knowledge_base import learned_pairs, query_model
from knowledge_base.schema import FaqEntry
from knowledge_base.settings import Settings

log = logging.getLogger(__name__)

TRAINING_VERSION = 2
"""Bump when the recipe changes, so cached models are retrained."""
EPOCHS = 3
BATCH_SIZE = 16
LEARNING_RATE = 3e-5
MAX_SEQ_LENGTH = 192
"""Tokens per text while training: long answers at 512 tokens made a 200-pair run take >12 min
and 9 GB on 2 cores; their first 192 tokens carry the topic."""
MARKER = "training.json"


@dataclass(frozen=True)
class TrainingResult:
    path: Path
    pairs: int
    seconds: float
    cached: bool


def training_pairs(
    entries: list[FaqEntry], query_prompt: str, passage_prompt: str, learned: Sequence[learned_pairs.Pair] = ()
) -> list[tuple[str, str]]:
    """(anchor, positive) texts with the model's prompts applied; `learned` (question, faq_id) pairs from the
    service pair like alternatives (ones for a removed entry, or already among its phrasings, are left out)."""
    pairs: list[tuple[str, str]] = []
    for entry in entries:
        question = query_prompt + entry.question
        pairs.extend((query_prompt + alternative, question) for alternative in entry.alternatives)
        pairs.append((question, passage_prompt + entry.answer))
    by_id = {entry.id: entry for entry in entries}
    for text, faq_id in learned:
        entry = by_id.get(faq_id)
        if entry is not None and text.casefold() not in {p.casefold() for p in (entry.question, *entry.alternatives)}:
            pairs.append((query_prompt + text, query_prompt + entry.question))
    return pairs


def model_key(settings: Settings, content_hash: str, learned: list[learned_pairs.Pair] = ()) -> str:  # type: ignore[assignment]
    """The trained model's folder name: the recipe, the base model, the FAQ content and the learned pairs."""
    identity = f"{TRAINING_VERSION}|{settings.embedding_model}|{content_hash}"
    if learned:
        identity += "|" + learned_pairs.digest(list(learned))
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def find_trained_model(settings: Settings, content_hash: str, source: str | None = None) -> Path | None:
    """The model trained on exactly this content, else the newest one for the same source.

    A model trained before an editor's last change is still far closer to the
    domain than the base model, so it keeps serving until retraining finishes;
    `source` (the FAQ folder) keeps models of other knowledge bases out.
    """
    learned = learned_pairs.for_source(settings, source)
    exact = settings.trained_models_dir / model_key(settings, content_hash, learned)
    if (exact / MARKER).exists():
        return exact
    newest: tuple[float, Path] | None = None
    if source is None:
        return None
    for marker in settings.trained_models_dir.glob(f"*/{MARKER}"):
        try:
            info = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        same_base = info.get("base_model") == settings.embedding_model
        if same_base and info.get("source") == source and info.get("version") == TRAINING_VERSION:
            stamp = float(info.get("completed_at", 0))
            if newest is None or stamp > newest[0]:
                newest = (stamp, marker.parent)
    return newest[1] if newest else None


def train(
    settings: Settings,
    entries: list[FaqEntry],
    content_hash: str,
    source: str,
    show_progress: bool = True,
) -> TrainingResult:
    """Fine-tune on `entries` unless a model for this exact content exists already."""
    learned = learned_pairs.for_source(settings, source)  # the service's confirmed pairs (none for other data)
    target = settings.trained_models_dir / model_key(settings, content_hash, learned)
    pairs = training_pairs(entries, settings.query_prompt, settings.passage_prompt, learned)
    if (target / MARKER).exists():
        return TrainingResult(target, len(pairs), 0.0, cached=True)
    if len(entries) < 2:
        raise ValueError("training needs at least two FAQ entries")

    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
        losses,
    )
    from sentence_transformers.training_args import BatchSamplers

    torch.set_num_threads(settings.training_threads)
    started = time.monotonic()
    model = SentenceTransformer(settings.embedding_model, device="cpu")
    serving_length = model.max_seq_length
    model.max_seq_length = min(serving_length, MAX_SEQ_LENGTH)
    dataset = Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]})
    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "checkpoints"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=BATCH_SIZE,
        learning_rate=LEARNING_RATE,
        warmup_steps=0.1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=not show_progress,
        logging_strategy="no",
        seed=42,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=losses.MultipleNegativesRankingLoss(model),
    )
    trainer.train()
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    model.max_seq_length = serving_length
    model.save(str(work))
    del trainer, model  # the export loads the saved weights; do not hold two copies
    query_model.export_quietly(settings.query_exports_dir, work)
    seconds = time.monotonic() - started
    marker = {
        "version": TRAINING_VERSION,
        "base_model": settings.embedding_model,
        "content_hash": content_hash,
        "source": source,
        "pairs": len(pairs),
        "learned_pairs": len(learned),
        "epochs": EPOCHS,
        "seconds": round(seconds, 1),
        "completed_at": time.time(),
    }
    (work / MARKER).write_text(json.dumps(marker, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    log.info("trained %s on %d pairs in %.0f s", target.name, len(pairs), seconds)
    return TrainingResult(target, len(pairs), seconds, cached=False)


def _low_priority_and_dies_with_parent() -> Callable[[], None]:
    """Nice 10, and stopped by the kernel if the service is killed (even by SIGKILL): no orphan keeps training."""
    dies_with_parent = die_with_parent()

    def preexec() -> None:
        os.nice(10)
        dies_with_parent()

    return preexec


@contextmanager
def training_in_background(settings: Settings, log_path: Path) -> Iterator[subprocess.Popen[bytes] | None]:
    """Fine-tune in a low-priority child process while the service answers with the base model.

    The running engine swaps the result in when it appears; leaving the block stops an
    unfinished run (the next start resumes from scratch, the cache makes a finished one free).
    Nothing starts when the FAQ files have errors or this exact content is already trained.
    """
    from knowledge_base.authoring.faq_files import load_faqs

    collection = load_faqs(settings.faq_dir)
    learned = learned_pairs.for_source(settings, str(settings.faq_dir))
    done = settings.trained_models_dir / model_key(settings, collection.content_hash(), learned) / MARKER
    if collection.errors or done.exists() or not settings.use_trained_model:
        yield None
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "knowledge_base", "train"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the service, which then stops this child itself
            preexec_fn=_low_priority_and_dies_with_parent(),
            env={
                **os.environ,
                "AUSKUNFT_FAQ_DIR": str(settings.faq_dir),
                "AUSKUNFT_MODELS_DIR": str(settings.models_dir),
                "AUSKUNFT_EMBEDDING_MODEL": settings.embedding_model,
            },
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
