"""Domain adaptation: fine-tune the embedding model on the knowledge base's own pairs.

Each alternative is paired with its question and each question with its answer
(the two kinds in batches of their own); MultipleNegativesRankingLoss pulls the
pairs together and pushes the other entries in the batch apart. Results are cached by content hash; the engine
falls back to the base model while no trained model exists.

It runs beside the service on small machines: the word-embedding matrix (250k
tokens x 384, most of e5-small's parameters) stays frozen, so it needs neither
gradients nor optimizer state; progress with an estimate of the time left goes to the caller (`var/train.log`
when the service trains in the background).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common import heap
from common.child_processes import die_with_parent
from knowledge_base import learned_pairs, query_model
from knowledge_base.calibration import MIN_IN_SCOPE
from knowledge_base.schema import FaqEntry
from knowledge_base.settings import Settings

if TYPE_CHECKING:
    from datasets import DatasetDict
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

TRAINING_VERSION = 5
"""Bump when the recipe changes, so cached models are retrained."""
EPOCHS = 3
BATCH_SIZE = 16
LEARNING_RATE = 3e-5
MAX_SEQ_LENGTH = 192
"""Tokens per text while training: long answers at 512 tokens made a 200-pair run take >12 min
and 9 GB on 2 cores; their first 192 tokens carry the topic."""
HARD_NEGATIVES = False
"""Give each paraphrase pair the other entry's question nearest to its anchor (by the base model) as an explicit
negative. Answer pairs get none: a third ~150-token text per pair took the trainer from 2.3 to 3.2 GB;
docs/benchmarks.md."""
AUGMENT = False
"""Also train each customer wording as typed in a hurry (lower case, umlauts as ae/oe/ue/ss); docs/benchmarks.md."""
HOLD_OUT_SHARE = 0.25
"""Share of the alternatives kept out of training (chosen by a hash of the text, so the same ones every time):
the model never learns them, so they are honest test questions when the decision is calibrated for it
(knowledge_base/calibration.py). They stay in the index. 0 trains on all and leaves the hand-set thresholds."""
HOLD_OUT_AT_LEAST = MIN_IN_SCOPE + 10
"""… but never fewer than this many (and at most half): the fit needs a count, not a share. A flat 15 % left a
COVID-QA fold 17, too few to fit, and its fixed thresholds answered 8.6 % wrongly. 15 % with this floor raised
the demo shop's direct answers on its test questions from 0.46 to 0.67, but the fit on its 35 held-out wordings leant on
word agreement so much that 4 of 30 off-topic questions ("Wie alt sind Sie?") got a direct answer, against 1 of 30 at
25 % (docs/benchmarks.md)."""
RECOMPUTE_ACTIVATIONS = True
"""Gradient checkpointing: keep each layer's input only and recompute the rest in the backward pass. A batch's
activations (~2 GB for 16 pairs with long answers) were most of the trainer's memory; docs/benchmarks.md."""
LOW_PRIORITY = 10
"""Niceness of a training process: the customers' answers come first."""
MARKER = "training.json"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingResult:
    path: Path
    pairs: int
    seconds: float
    cached: bool


@dataclass(frozen=True)
class Example:
    """One training pair and where its positive comes from (for mining a negative from another entry)."""

    anchor: str
    positive: str
    entry: int
    """Index of the entry whose text is `positive`."""
    positive_is_answer: bool


def held_out(entries: Sequence[FaqEntry], share: float | None = None, at_least: int | None = None) -> list[str]:
    """The alternatives not trained on: the `share` (HOLD_OUT_SHARE) of them, but at least `at_least`
    (HOLD_OUT_AT_LEAST) and at most half, with the lowest hash of entry and text — the same ones every time, and
    a new entry or wording moves at most a few at the edge."""
    share = HOLD_OUT_SHARE if share is None else share
    at_least = HOLD_OUT_AT_LEAST if at_least is None else at_least
    ranked = sorted((hashlib.sha256(f"{entry.id}\n{alternative}".encode()).digest(), alternative)
                    for entry in entries for alternative in entry.alternatives)
    count = min(max(round(share * len(ranked)), at_least), len(ranked) // 2) if share > 0 else 0
    return [alternative for _, alternative in ranked[:count]]


def trained_phrasings(entries: Sequence[FaqEntry], leave_out: Collection[str]) -> set[str]:
    """The questions and alternatives a model trained with `leave_out` held out has learnt."""
    leave_out = set(leave_out)
    return {text for entry in entries for text in entry.match_texts if text not in leave_out}


def unseen_phrasings(model_dir: Path, entries: Sequence[FaqEntry]) -> set[str] | None:
    """The phrasings of `entries` the trained model in `model_dir` never learnt: held out, or added since.

    None when its marker does not say what it learnt (trained before phrasings were held out).
    """
    try:
        learnt = json.loads((Path(model_dir) / MARKER).read_text()).get("trained_phrasings")
    except (OSError, ValueError):
        return None
    if learnt is None:
        return None
    learnt = set(learnt)
    return {text for entry in entries for text in entry.match_texts if text not in learnt}


def training_examples(
    entries: Sequence[FaqEntry],
    query_prompt: str,
    passage_prompt: str,
    extra_questions: Iterable[tuple[str, str]] = (),
    leave_out: Collection[str] = (),
) -> list[Example]:
    """Alternative -> question and question -> answer for every entry, plus `extra_questions`.

    `extra_questions` are (customer wording, faq_id) pairs from elsewhere (e.g. the service's
    own answered questions); ones naming no current entry are skipped. Alternatives in `leave_out`
    (`held_out`) are not trained on.
    """
    examples: list[Example] = []
    leave_out = set(leave_out)
    for number, entry in enumerate(entries):
        question = query_prompt + entry.question
        examples.extend(Example(query_prompt + alt, question, number, False)
                        for alt in entry.alternatives if alt not in leave_out)
        examples.append(Example(question, passage_prompt + entry.answer, number, True))
    by_id = {entry.id: number for number, entry in enumerate(entries)}
    for wording, faq_id in extra_questions:
        if faq_id in by_id:
            number = by_id[faq_id]
            examples.append(Example(query_prompt + wording, query_prompt + entries[number].question, number, False))
    if AUGMENT:
        examples.extend(hurried(examples, query_prompt))
    return examples


def hurried(examples: Sequence[Example], query_prompt: str) -> list[Example]:
    """Each alternative -> question pair again with the anchor as typed in a hurry (where that differs)."""
    from knowledge_base.german_text import fold

    extra = []
    for example in examples:
        if example.positive_is_answer:
            continue
        wording = example.anchor.removeprefix(query_prompt)
        typed = fold(wording.lower()).rstrip("?!. ")
        if typed != wording:
            extra.append(Example(query_prompt + typed, example.positive, example.entry, False))
    return extra


def training_pairs(
    entries: list[FaqEntry], query_prompt: str, passage_prompt: str, learned: Sequence[learned_pairs.Pair] = ()
) -> list[tuple[str, str]]:
    """(anchor, positive) texts with the model's prompts applied; `learned` (question, faq_id) pairs from the
    service pair like alternatives (ones for a removed entry, or already among its phrasings, are left out)."""
    extra = new_wordings(entries, learned)
    examples = training_examples(entries, query_prompt, passage_prompt, extra, held_out(entries))
    return [(e.anchor, e.positive) for e in examples]


def new_wordings(entries: Sequence[FaqEntry], learned: Sequence[learned_pairs.Pair]) -> list[tuple[str, str]]:
    """The learned (question, faq_id) pairs whose wording is not already one of its entry's phrasings."""
    by_id = {entry.id: entry for entry in entries}
    kept = []
    for text, faq_id in learned:
        entry = by_id.get(faq_id)
        if entry is not None and text.casefold() not in {p.casefold() for p in (entry.question, *entry.alternatives)}:
            kept.append((text, faq_id))
    return kept


def hard_negatives(paraphrases: Sequence[Example], questions: Sequence[str], model: SentenceTransformer) -> list[str]:
    """For each paraphrase pair the other entry's question nearest to its anchor.

    Mined with the model before training: these neighbours are exactly what it confuses today.
    `questions` are the entries' prompted questions; an example's own entry is never chosen.
    """
    import numpy as np

    anchors = model.encode([e.anchor for e in paraphrases], normalize_embeddings=True, batch_size=32)
    candidates = model.encode(list(questions), normalize_embeddings=True, batch_size=32)
    negatives = []
    for anchor, example in zip(anchors, paraphrases, strict=True):
        scores = candidates @ anchor
        scores[example.entry] = -np.inf
        negatives.append(questions[int(np.argmax(scores))])
    return negatives


def training_datasets(examples: Sequence[Example], paraphrase_negatives: Sequence[str] | None = None) -> DatasetDict:
    """Paraphrase pairs (alternative -> question) and answer pairs (question -> answer) as a `DatasetDict`, from which
    sentence-transformers draws each batch from one set, in proportion to their sizes.

    A batch is padded to its longest text: mixed in with a ~150-token answer, sixteen short pairs cost as much as
    answers (the demo shop trained in 289 s instead of 89 s; docs/benchmarks.md). `paraphrase_negatives` are one
    text per paraphrase pair, in order (`hard_negatives`).
    """
    from datasets import Dataset, DatasetDict

    paraphrases = [e for e in examples if not e.positive_is_answer]
    answers = [e for e in examples if e.positive_is_answer]
    sets = {
        "paraphrases": {"anchor": [e.anchor for e in paraphrases], "positive": [e.positive for e in paraphrases]},
        "answers": {"anchor": [e.anchor for e in answers], "positive": [e.positive for e in answers]},
    }
    if paraphrase_negatives is not None:
        sets["paraphrases"]["negative"] = list(paraphrase_negatives)
    return DatasetDict({kind: Dataset.from_dict(columns) for kind, columns in sets.items() if columns["anchor"]})


def model_key(settings: Settings, content_hash: str, learned: list[learned_pairs.Pair] = ()) -> str:  # type: ignore[assignment]
    """The trained model's folder name: the recipe (its version and switches), the base model, the FAQ content and
    the learned pairs."""
    recipe = f"{TRAINING_VERSION}|{HOLD_OUT_SHARE}|{HOLD_OUT_AT_LEAST}|{HARD_NEGATIVES}|{AUGMENT}"
    identity = f"{recipe}|{settings.embedding_model}|{content_hash}"
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


class ProgressReport:
    """Steps done of all, time so far and an estimate of the time left, about every 5 % of the steps.

    The estimate is the mean time per step so far times the steps left: honest after the first
    report, since every step does the same work (batches of one size, texts capped in length).
    """

    def __init__(self, write: Progress, started: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.started, self.clock = write, started, clock
        self.steps_started: float | None = None

    def begin(self, total: int) -> None:
        self.steps_started = self.clock()
        self.write(f"training: 0/{total} steps, {self.clock() - self.started:.0f} s elapsed")

    def step(self, done: int, total: int) -> None:
        if self.steps_started is None:
            self.begin(total)
        every = max(1, total // 20)
        if done % every and done != total:
            return
        now = self.clock()
        per_step = (now - self.steps_started) / max(done, 1)
        left = per_step * (total - done)
        self.write(f"training: {done}/{total} steps, {now - self.started:.0f} s elapsed, "
                   f"ETA {_minutes(left)} (+ export)")


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _trainer_callback(report: ProgressReport):
    from transformers import TrainerCallback

    class _Report(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            report.begin(state.max_steps)

        def on_step_end(self, args, state, control, **kwargs):
            report.step(state.global_step, state.max_steps)

    return _Report()


def freeze_word_embeddings(model: SentenceTransformer) -> int:
    """Keep the token-embedding matrix as it is; returns how many parameters that leaves out of training.

    It is most of a small multilingual model (e5-small: 96M of 118M), and a knowledge base's few
    hundred pairs touch a tiny share of its rows: training it costs gigabytes of gradients and
    optimizer state for no measurable gain (docs/benchmarks.md).
    """
    embeddings = model[0].auto_model.get_input_embeddings()
    embeddings.requires_grad_(False)
    return embeddings.weight.numel()


LARGE_BUFFER_BYTES = 8 * 2**20
"""Buffers from this size on (a layer's activations) are mapped from and given back to the system each time."""


def give_large_buffers_back() -> None:
    """Tell glibc's malloc to serve large buffers by mmap, so a freed activation goes back to the system.

    Without it the heap keeps every step's largest buffers and the trainer's RSS creeps up step by step
    (2.31 GB against 2.09 GB after one epoch of the demo shop, at the same speed: docs/benchmarks.md). A
    threshold of 64 KB gave 1.49 GB but cost 50 % more time in page faults.
    """
    heap.map_buffers_from(LARGE_BUFFER_BYTES)


def lower_priority(niceness: int = LOW_PRIORITY) -> None:
    """Run this process at least at `niceness` (never raises the priority of an already nicer one)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if current < niceness:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)


def train(
    settings: Settings,
    entries: list[FaqEntry],
    content_hash: str,
    source: str,
    show_progress: bool = True,
    progress: Progress | None = None,
) -> TrainingResult:
    """Fine-tune on `entries` unless a model for this exact content exists already.

    `show_progress`: a tqdm bar (for a terminal); `progress` receives one line per report
    (steps, elapsed, estimate left) for a log file.
    """
    learned = learned_pairs.for_source(settings, source)  # the service's confirmed pairs (none for other data)
    target = settings.trained_models_dir / model_key(settings, content_hash, learned)
    kept_back = held_out(entries)
    examples = training_examples(entries, settings.query_prompt, settings.passage_prompt,
                                 new_wordings(entries, learned), kept_back)
    if (target / MARKER).exists():
        return TrainingResult(target, len(examples), 0.0, cached=True)
    if len(entries) < 2:
        raise ValueError("training needs at least two FAQ entries")
    started = time.monotonic()
    write = progress or (lambda line: None)
    write(f"training on {len(examples)} pairs from {len(entries)} entries: loading the model")

    import torch
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
        losses,
    )
    from sentence_transformers.training_args import BatchSamplers

    torch.set_num_threads(settings.training_threads)
    give_large_buffers_back()
    model = SentenceTransformer(settings.embedding_model, device="cpu")
    serving_length = model.max_seq_length
    model.max_seq_length = min(serving_length, MAX_SEQ_LENGTH)
    frozen = freeze_word_embeddings(model)
    negatives = None
    if HARD_NEGATIVES:
        questions = [settings.query_prompt + e.question for e in entries]
        negatives = hard_negatives([e for e in examples if not e.positive_is_answer], questions, model)
    dataset = training_datasets(examples, negatives)
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
        activation_checkpointing=RECOMPUTE_ACTIVATIONS,
        activation_checkpointing_kwargs={"use_reentrant": False},  # the frozen embeddings' output needs no grad
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=losses.MultipleNegativesRankingLoss(model),
        callbacks=[_trainer_callback(ProgressReport(write, started))],
    )
    log.info("training %d pairs, %d word-embedding parameters frozen", len(examples), frozen)
    trainer.train()
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    model.max_seq_length = serving_length
    model.save(str(work))
    del trainer, model, dataset  # the export loads the saved weights; do not hold two copies
    gc.collect()
    heap.return_freed_memory()  # the trainer held 1.55 GB after training, 0.56 GB after this, beside the export
    write(f"exporting for fast questions, {time.monotonic() - started:.0f} s elapsed")
    query_model.export_quietly(settings.query_exports_dir, work)
    seconds = time.monotonic() - started
    marker = {
        "version": TRAINING_VERSION,
        "base_model": settings.embedding_model,
        "content_hash": content_hash,
        "source": source,
        "pairs": len(examples),
        "trained_phrasings": sorted(trained_phrasings(entries, kept_back)),
        "learned_pairs": len(learned),
        "epochs": EPOCHS,
        "seconds": round(seconds, 1),
        "completed_at": time.time(),
    }
    (work / MARKER).write_text(json.dumps(marker, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    write(f"done in {seconds:.0f} s")
    log.info("trained %s on %d pairs in %.0f s", target.name, len(examples), seconds)
    return TrainingResult(target, len(examples), seconds, cached=False)


def _low_priority_and_dies_with_parent() -> Callable[[], None]:
    """Nice 10, and stopped by the kernel if the service is killed (even by SIGKILL): no orphan keeps training."""
    dies_with_parent = die_with_parent()

    def preexec() -> None:
        lower_priority()
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
