"""The training recipe's parts that need no training run: pairs, mined negatives, progress lines, priority."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from knowledge_base import calibration, training
from knowledge_base.schema import FaqEntry


def _entry(**fields) -> FaqEntry:
    return FaqEntry(updated="2026-11-20", **fields)


def _entries() -> list[FaqEntry]:
    return [
        _entry(id="versand-kosten", question="Was kostet der Versand?", alternatives=["Versandkosten"],
                 answer="4,95 €."),
        _entry(id="versand-dauer", question="Wie lange dauert der Versand?", alternatives=["Lieferzeit", "Dauer"],
                 answer="2–3 Werktage."),
        _entry(id="retoure", question="Wie schicke ich etwas zurück?", alternatives=[], answer="Mit dem Schein."),
    ]


def test_extra_questions_become_pairs_with_their_entry_and_unknown_ids_are_skipped() -> None:
    examples = training.training_examples(_entries(), "query: ", "passage: ",
                                          extra_questions=[("Porto?", "versand-kosten"), ("Hallo", "gibt-es-nicht")])
    extra = [e for e in examples if e.anchor == "query: Porto?"]
    assert extra == [training.Example("query: Porto?", "query: Was kostet der Versand?", 0, False)]
    assert not any("Hallo" in e.anchor for e in examples)
    assert len(examples) == 3 + 3 + 1  # alternatives, question->answer per entry, one extra


def test_paraphrase_and_answer_pairs_go_into_batches_of_their_own() -> None:
    examples = training.training_examples(_entries(), "q: ", "p: ")
    split = training.training_datasets(examples, paraphrase_negatives=["n0", "n1", "n2"])
    assert set(split) == {"paraphrases", "answers"}
    assert split["answers"]["positive"] == ["p: 4,95 €.", "p: 2–3 Werktage.", "p: Mit dem Schein."]
    assert "negative" not in split["answers"].column_names  # a third long text per answer pair costs ~1 GB
    assert split["paraphrases"]["anchor"] == ["q: Versandkosten", "q: Lieferzeit", "q: Dauer"]
    assert split["paraphrases"]["negative"] == ["n0", "n1", "n2"]
    no_alternatives = [e.model_copy(update={"alternatives": []}) for e in _entries()]
    assert set(training.training_datasets(training.training_examples(no_alternatives, "", ""))) == {"answers"}


def test_held_out_alternatives_are_not_trained_and_the_choice_stays_when_others_change() -> None:
    many = [_entry(id=f"e{n}", question=f"Frage {n}?", alternatives=[f"Wort {n}-{k}" for k in range(4)],
                   answer="Antwort.") for n in range(30)]
    held = training.held_out(many, 0.25)
    assert len(held) == 30  # a quarter of the 120 alternatives
    assert len({text.split()[1].split("-")[0] for text in held}) > 10  # spread over the entries, not the first few
    anchors = {e.anchor for e in training.training_examples(many, "", "", leave_out=held)}
    assert not anchors & set(held) and {"Frage 0?", "Wort 0-0"} - set(held) <= anchors
    grown = [*many, _entry(id="neu", question="Neu?", alternatives=["ganz neu"], answer="Ja.")]
    assert len(set(held) - set(training.held_out(grown, 0.25))) <= 1  # a new wording moves at most one at the edge
    assert training.held_out(many, 0.0) == []


def test_the_held_out_count_is_what_the_fit_needs_not_a_fixed_share() -> None:
    def entries(alternatives: int) -> list:
        return [_entry(id=f"e{n}", question=f"Frage {n}?", alternatives=[f"Wort {n}-{k}" for k in range(2)],
                       answer="Antwort.") for n in range(alternatives // 2)]

    assert len(training.held_out(entries(400), 0.15, 30)) == 60  # large: the share
    assert len(training.held_out(entries(112), 0.15, 30)) == 30  # 17 would be too few to calibrate on
    assert len(training.held_out(entries(40), 0.15, 30)) == 20  # small: never more than half
    assert training.HOLD_OUT_AT_LEAST > calibration.MIN_IN_SCOPE


def test_unseen_phrasings_are_the_held_out_ones_and_those_added_since(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    entries = _entries()
    learnt = training.trained_phrasings(entries, ["Lieferzeit"])
    (tmp_path / training.MARKER).write_text(json.dumps({"trained_phrasings": sorted(learnt)}))
    assert training.unseen_phrasings(tmp_path, entries) == {"Lieferzeit"}
    edited = [entries[0].model_copy(update={"alternatives": ["Versandkosten", "Porto"]}), *entries[1:]]
    assert training.unseen_phrasings(tmp_path, edited) == {"Lieferzeit", "Porto"}
    (tmp_path / training.MARKER).write_text(json.dumps({"pairs": 7}))  # trained before phrasings were held out
    assert training.unseen_phrasings(tmp_path, entries) is None


NEIGHBOUR = {0: 1, 1: 0, 2: 1}
"""Which other entry each of `_entries()` is closest to in the fake embedding."""


class _NearestIsSelf:
    """Embeds every text of an entry onto that entry's axis: the own entry is always the nearest."""

    def __init__(self, entries: list[FaqEntry]) -> None:
        self.axis: dict[str, int] = {}
        for number, entry in enumerate(entries):
            for text in (entry.question, entry.answer, *entry.alternatives):
                self.axis[text.split(": ", 1)[-1]] = number
        self.size = len(entries)

    def encode(self, texts, normalize_embeddings=True, batch_size=32):
        vectors = np.zeros((len(texts), self.size), dtype=np.float32)
        for row, text in enumerate(texts):
            number = self.axis[text.split(": ", 1)[-1]]
            vectors[row, number] = 1.0
            vectors[row, NEIGHBOUR[number]] = 0.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_hard_negatives_are_the_neighbouring_entrys_question_never_the_own_one() -> None:
    entries = _entries()
    paraphrases = [e for e in training.training_examples(entries, "query: ", "passage: ") if not e.positive_is_answer]
    questions = ["query: " + e.question for e in entries]
    negatives = training.hard_negatives(paraphrases, questions, _NearestIsSelf(entries))
    assert len(negatives) == len(paraphrases) == 3
    for example, negative in zip(paraphrases, negatives, strict=True):
        assert negative != questions[example.entry]
        assert negative == questions[NEIGHBOUR[example.entry]]


def test_progress_lines_give_steps_elapsed_and_an_estimate_left() -> None:
    now = [100.0]
    lines: list[str] = []
    report = training.ProgressReport(lines.append, started=90.0, clock=lambda: now[0])
    report.begin(40)
    for step in range(1, 41):
        now[0] += 2.0  # two seconds a step
        report.step(step, 40)
    assert lines[0] == "training: 0/40 steps, 10 s elapsed"
    assert lines[1] == "training: 2/40 steps, 14 s elapsed, ETA 76 s (+ export)"
    assert lines[10] == "training: 20/40 steps, 50 s elapsed, ETA 40 s (+ export)"
    assert lines[-1].startswith("training: 40/40 steps, 90 s elapsed, ETA 0 s")
    assert len(lines) == 1 + 20  # about every 5 %: a log, not a flood


def test_lower_priority_reaches_the_level_and_never_raises_priority() -> None:
    code = ("import os; from knowledge_base.training import lower_priority\n"
            "lower_priority(); a = os.getpriority(os.PRIO_PROCESS, 0)\n"
            "os.nice(5); lower_priority(); print(a, os.getpriority(os.PRIO_PROCESS, 0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ}).stdout.split()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert int(out[0]) == max(base, training.LOW_PRIORITY)
    assert int(out[1]) == min(max(base, training.LOW_PRIORITY) + 5, 19)


def test_each_recipe_switch_gives_its_own_model_folder(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from knowledge_base.settings import Settings

    settings = Settings(models_dir=tmp_path)
    keys = {training.model_key(settings, "content")}
    for switch, value in (("HARD_NEGATIVES", True), ("AUGMENT", True), ("HOLD_OUT_SHARE", 0.05),
                          ("HOLD_OUT_AT_LEAST", 5)):
        monkeypatch.setattr(training, switch, value)
        keys.add(training.model_key(settings, "content"))
    assert len(keys) == 5  # a cached model of another recipe is never served as this one
