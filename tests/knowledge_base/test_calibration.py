"""Calibration per knowledge base: the fitted decision keeps the wrong-answer target on phrasings it never saw,
a stricter target answers less, a tiny knowledge base falls back to the fixed thresholds, and editors see the
expected shares in German (lint and the FAQ page)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from knowledge_base import calibration
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.engine import KnowledgeBase
from knowledge_base.schema import FaqEntry
from knowledge_base.settings import PROJECT_ROOT, Settings, Thresholds
from knowledge_base.tools import cli as kb_cli
from tests.conftest import FakeEmbedder

DEMO = PROJECT_ROOT / "knowledge_base" / "faqs"
OFF_TOPIC = [  # not in knowledge_base/data/off_topic_questions.txt: the fit never saw these
    "Wie viele Beine hat eine Spinne?",
    "Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?",
    "Wie backe ich Brot ohne Hefe?",
    "Was ist die Quadratwurzel aus 144?",
    "Welche Oper hat Mozart zuletzt geschrieben?",
    "Wie lange braucht Licht von der Sonne zur Erde?",
    "Wie pflanze ich Tulpenzwiebeln?",
    "Wie heißt der höchste Berg Afrikas?",
    "Können Sie mir ein Gedicht über das Meer schreiben?",
    "Wie repariere ich einen tropfenden Wasserhahn?",
]


def held_out_split() -> tuple[list[FaqEntry], list[tuple[str, str | None]]]:
    """The demo entries without each one's last alternative, and those alternatives (plus off-topic questions)."""
    entries = [located.entry for located in load_faqs(DEMO).entries]
    kept = [e.model_copy(update={"alternatives": e.alternatives[:-1]}) for e in entries]
    asked: list[tuple[str, str | None]] = [(e.alternatives[-1], e.id) for e in entries]
    return kept, asked + [(question, None) for question in OFF_TOPIC]


def served(entries: list[FaqEntry], embedder, rate: float = 0.01) -> KnowledgeBase:  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(Settings(max_wrong_rate=rate, use_trained_model=False), embedder, persist=False)
    kb.load_entries(entries, "calibration-test")
    return kb


def wrong_share(kb: KnowledgeBase, asked: list[tuple[str, str | None]]) -> tuple[float, int]:
    decisions = [(kb.ask(question), faq_id) for question, faq_id in asked]
    wrong = sum(d.action == "answer" and d.faq_id != faq_id for d, faq_id in decisions)
    return wrong / len(asked), sum(d.action == "answer" for d, _ in decisions)


@pytest.mark.parametrize("model", ["fake", "real"])
def test_the_fitted_decision_keeps_the_target_on_phrasings_it_never_saw(model: str, request) -> None:  # type: ignore[no-untyped-def]
    embedder = FakeEmbedder() if model == "fake" else request.getfixturevalue("real_embedder")
    entries, asked = held_out_split()
    kb = served(entries, embedder)
    fitted = kb.snapshot().calibration
    assert fitted is not None and fitted.calibration is not None, fitted
    assert fitted.calibration.shares.wrong <= 0.01
    share, answered = wrong_share(kb, asked)
    assert answered > 0  # it does answer some directly
    assert share <= 1 / len(asked) + 1e-9  # at most one of 48 (2 %): the target is 1 %, the sample small
    assert kb.ask("Was kostet der Versand?").probability is not None  # the calibrated decision, not thresholds


def test_a_fine_tuned_model_is_tested_only_on_the_phrasings_it_never_learnt(fake_embedder: FakeEmbedder) -> None:
    """It would find a learnt phrasing's entry far more surely than a customer's new wording."""
    entries = [located.entry for located in load_faqs(DEMO).entries]
    index = served(entries, fake_embedder).snapshot().index
    unseen = {entry.alternatives[0] for entry in entries}
    settings = Settings()
    every = calibration.pseudo_queries(index, [], np.zeros((0, 64)), settings.answer_weight, settings.lexical_weight)
    only = calibration.pseudo_queries(index, [], np.zeros((0, 64)), settings.answer_weight, settings.lexical_weight,
                                      unseen=unseen)
    assert int(only.in_scope.sum()) == len(unseen) < int(every.in_scope.sum())
    assert int((~only.in_scope).sum()) == len(unseen)  # and only they are asked with their entry left out


def test_the_answer_threshold_spends_the_budget_on_expected_mistakes() -> None:
    probability = np.linspace(0.999, 0.5, 100)  # the surest first
    weight = np.full(100, 0.01)
    at = calibration.answer_threshold(probability, weight, max_wrong_rate=0.01)
    expected_wrong = np.cumsum((1 - probability) * weight)
    answered = int((probability >= at).sum())
    assert 0 < answered < 100
    assert expected_wrong[answered - 1] <= 0.01 < expected_wrong[answered]  # as many as the budget allows
    assert calibration.answer_threshold(probability, weight, max_wrong_rate=1e-6) > 1  # none: not even the surest


def test_no_signal_counts_against_the_top_entry() -> None:
    """Word agreement once got a negative weight from the pseudo-queries alone (held-out wordings are worded apart
    from their entry on purpose); on real questions it speaks for the top entry, so the fit may not invert it."""
    rng = np.random.default_rng(0)
    score, words = rng.normal(size=400), rng.normal(size=400)
    right = (2 * score - words + rng.normal(size=400) > 0).astype(int)  # here, agreement comes with mistakes
    model = calibration._fit_linear(np.stack([score, words], axis=1), right)
    assert model.coef[0] > 0.5 and model.coef[1] == 0.0
    low, high = np.array([[0.5, -1.0]]), np.array([[0.5, 1.0]])
    assert model.probability(high)[0] == pytest.approx(model.probability(low)[0])
    assert model.probability(np.array([[1.5, 0.0]]))[0] > model.probability(np.array([[0.0, 0.0]]))[0]


def test_a_stricter_target_answers_less(fake_embedder: FakeEmbedder) -> None:
    entries, asked = held_out_split()
    loose, strict = served(entries, fake_embedder, 0.10), served(entries, fake_embedder, 0.002)
    loose_fit, strict_fit = loose.snapshot().calibration.calibration, strict.snapshot().calibration.calibration
    assert strict_fit.answer_at > loose_fit.answer_at
    assert strict_fit.shares.answer < loose_fit.shares.answer
    assert strict_fit.shares.wrong <= 0.002 < loose_fit.shares.wrong
    assert wrong_share(strict, asked)[1] < wrong_share(loose, asked)[1]


def test_a_tiny_knowledge_base_falls_back_to_the_fixed_thresholds(settings: Settings,
                                                                  fake_embedder: FakeEmbedder) -> None:
    kb = KnowledgeBase(settings, fake_embedder)
    state = kb.snapshot()
    assert state.calibration is not None and state.calibration.calibration is None
    assert state.calibration_summary == [
        "Keine Kalibrierung: zu wenige Formulierungen zum Kalibrieren (9, mindestens 20 nötig): "
        "es gelten die festen Schwellen."
    ]
    decision = kb.ask("Was kostet der Versand?")
    assert decision.action == "answer" and decision.probability is None  # the hand-set thresholds decided
    assert (settings.index_dir / fake_embedder.model_id / calibration.CALIBRATION_FILE).exists()


def test_fixed_thresholds_set_by_the_operator_switch_calibration_off(fake_embedder: FakeEmbedder) -> None:
    entries, _ = held_out_split()
    for settings in (Settings(thresholds=Thresholds(answer=0.9)), Settings(calibrate=False)):
        kb = KnowledgeBase(settings.model_copy(update={"use_trained_model": False}), fake_embedder, persist=False)
        kb.load_entries(entries, "fixed")
        assert kb.snapshot().calibration is None
        assert kb.snapshot().calibration_summary == [
            "Feste Schwellen aus den Einstellungen entscheiden; keine Kalibrierung."]
        assert kb.ask("Was kostet der Versand?").probability is None


def test_a_saved_fit_reads_back_and_decides_the_same(fake_embedder: FakeEmbedder, tmp_path: Path) -> None:
    entries, asked = held_out_split()
    kb = served(entries, fake_embedder)
    result = kb.snapshot().calibration
    calibration.save(result, tmp_path)
    again = calibration.Calibration.from_json((tmp_path / calibration.CALIBRATION_FILE).read_text())
    assert again == result.calibration
    for question, _ in asked[:10]:
        ranking = kb.rank(question)
        assert again.decide(ranking) == result.calibration.decide(ranking)


@pytest.mark.slow
def test_lint_reports_the_expected_shares_in_german(tmp_path: Path) -> None:
    folder = shutil.copytree(DEMO, tmp_path / "faqs")
    env = {"AUSKUNFT_INDEX_DIR": str(tmp_path / "index"), "AUSKUNFT_MODELS_DIR": str(tmp_path / "models"),
           "AUSKUNFT_EMBEDDING_MODEL": str(PROJECT_ROOT / "models" / "e5-small-st")}
    result = CliRunner().invoke(kb_cli.cli, ["lint", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert "Erwartet bei Fragen, die das FAQ abdeckt:" in result.output
    assert "direkt beantwortet" in result.output and "Übergabe an das Team" in result.output
    assert "Erwartete falsche Antworten:" in result.output and "(Ziel höchstens 1 %)" in result.output
