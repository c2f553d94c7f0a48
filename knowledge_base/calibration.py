"""Decision thresholds fitted to each knowledge base from its own phrasings, for one target error rate.

Hand-set cut-offs on the fused cosine do not travel: the same score means a sure match in one knowledge base
and a coin toss in another. So each build asks the index questions whose right answer is known and learns
from the ranking how likely the top entry is right — no new data, nothing embedded again but a few probes:

- in scope: every phrasing of an entry that has at least two, asked with that phrasing left out of the index
  (leave-one-out on the stored vectors and terms);
- near out of scope: every entry's phrasings asked with the whole entry left out — a question the knowledge
  base seems to cover but cannot answer;
- far out of scope: generic German questions no FAQ answers (`data/off_topic_questions.txt`).

Two logistic regressions on features of the ranking, with no weight below zero, give P(the top entry is right) and
P(the right entry is among the offered options). The answer threshold on the first is the lowest at which the
expected wrong answers stay within `AUSKUNFT_MAX_WRONG_RATE` of all questions: the sum of 1 − P(right) over the
pseudo-queries it would answer, with cross-validated probabilities (grouped by entry, so no entry vouches for
itself). Counting the pseudo-queries answered wrongly instead made the threshold jump above the single surest
mistake: with ~60 held-out phrasings one mistake weighs more than the whole 1 % budget (docs/benchmarks.md).
Options are offered when the second model makes it likely enough that they hold the right entry; else the question
goes to a person.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge_base.decision import MAX_OPTIONS, Candidate, Decision
from knowledge_base.faq_index import FaqIndex, Signals, best_phrasings_score
from knowledge_base.ranking import clean_question, fuse

log = logging.getLogger(__name__)

PROBES_FILE = Path(__file__).resolve().parent / "data" / "off_topic_questions.txt"
CALIBRATION_FILE = "calibration.json"
MIN_IN_SCOPE = 20
"""Fewer held-out phrasings than this and the fit would be guesswork: the hand-set thresholds decide."""
MIN_EACH_OUTCOME = 5
"""At least this many pseudo-queries ranked right, and this many wrong or out of scope."""
MAX_PSEUDO_QUERIES = 3000
"""Large knowledge bases are sampled (deterministically): the fit needs hundreds, not tens of thousands."""
OUT_OF_SCOPE_SHARE = 0.2
"""Share of questions assumed to be outside the knowledge base when the error rate is counted (half near,
half far); on the demo shop's labelled questions it is 18 %."""
ANSWER_FLOOR = 0.5
"""Never answer directly when the answer is more likely wrong than right, whatever the target allows."""
CLARIFY_AT = 0.3
"""Offer options when they hold the right entry with at least this probability; below, a person answers
better. Of 0.5 and 0.3 (shop dev and COVID-QA CV) 0.3 cut hand-offs of answerable questions by half at
the same wrong-answer rate; out-of-scope questions are then asked back more often, never answered."""
CV_FOLDS = 5
TOP_K = 5


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression as plain numbers (standardised features), so serving needs only numpy."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = ((features - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Shares:
    """What the fit expects of real questions, measured on the pseudo-queries with cross-validated probabilities."""

    answer: float
    """Questions the knowledge base covers: answered directly."""
    clarify: float
    """… asked back with options."""
    handoff: float
    """… handed to a person."""
    answered_correct: float
    """… answered directly and rightly."""
    wrong: float
    """Of all questions (out-of-scope share included): answered wrongly."""
    out_of_scope_not_answered: float
    in_scope_queries: int
    out_of_scope_queries: int


@dataclass(frozen=True)
class Calibration:
    answer_model: LinearModel
    options_model: LinearModel
    answer_at: float
    clarify_at: float
    max_wrong_rate: float
    shares: Shares

    def decide(self, ranked: list[Candidate]) -> Decision:
        """Answer when P(right) clears the fitted threshold; offer options when they likely hold it; else hand off."""
        x = features_of_candidates(ranked)
        top = ranked[0]
        p_answer = float(self.answer_model.probability(x))
        if p_answer >= self.answer_at:
            return Decision("answer", top.score, ranked[:MAX_OPTIONS], "clear match", round(p_answer, 4))
        p_options = float(self.options_model.probability(x))
        if p_options >= self.clarify_at and len(ranked) > 1:
            return Decision("clarify", top.score, ranked[:MAX_OPTIONS], "close matches", round(p_answer, 4))
        return Decision("handoff", top.score, ranked[:MAX_OPTIONS], "no entry fits well enough", round(p_answer, 4))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        data = json.loads(text)

        def model(fields: dict) -> LinearModel:
            return LinearModel(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})

        return cls(
            answer_model=model(data["answer_model"]),
            options_model=model(data["options_model"]),
            answer_at=data["answer_at"],
            clarify_at=data["clarify_at"],
            max_wrong_rate=data["max_wrong_rate"],
            shares=Shares(**data["shares"]),
        )


@dataclass(frozen=True)
class CalibrationResult:
    """The fit, or why there is none (then the hand-set thresholds decide)."""

    calibration: Calibration | None
    note: str = ""


TRAINED_NOTE = ("das fein abgestimmte Modell kennt die Formulierungen der Einträge aus dem Training, sie taugen "
                "nicht als Prüffragen; seine gemessenen festen Schwellen entscheiden")
"""Why a fine-tuned model is not calibrated (engine.KnowledgeBase._build)."""


# --- features: the same for fitting and serving ------------------------------------------------------------
def features(scores: np.ndarray, question: np.ndarray, answer: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """Per query, from its top candidates (columns best first, padded with -1 / 0):
    top score, its lead over the 2nd and 3rd, the top's phrasing and answer similarity, its lexical agreement
    and that agreement's lead over the runners-up."""
    s1, s2, s3 = scores[:, 0], scores[:, 1], scores[:, 2]
    lex_rest = lexical[:, 1:3].max(axis=1)
    return np.stack(
        [s1, s1 - s2, s1 - s3, question[:, 0], answer[:, 0], lexical[:, 0], lexical[:, 0] - lex_rest], axis=1
    )


def features_of_candidates(ranked: list[Candidate]) -> np.ndarray:
    columns = [(c.score, c.question_similarity, c.answer_similarity, c.lexical) for c in ranked[:3]]
    columns += [(-1.0, -1.0, -1.0, 0.0)] * (3 - len(columns))
    matrix = np.asarray(columns, dtype=np.float64).T[:, None, :]  # (4 signals, 1 query, 3 ranks)
    return features(*matrix)[0]


# --- pseudo-queries ------------------------------------------------------------------------------------------
@dataclass
class PseudoQueries:
    features: np.ndarray
    right_at_top: np.ndarray
    right_in_options: np.ndarray
    weight: np.ndarray
    group: np.ndarray
    """The entry the query came from (far probes: one group each), for grouped cross-validation."""
    in_scope: np.ndarray


def pseudo_queries(
    index: FaqIndex,
    probe_texts: list[str],
    probe_vectors: np.ndarray,
    answer_weight: float,
    lexical_weight: float,
    seed: int = 0,
    unseen: Collection[str] | None = None,
) -> PseudoQueries:
    """Rank every held-out phrasing and probe against the index as a question would be; nothing is re-embedded.

    `unseen`: for a fine-tuned model, the phrasings it never learnt; only they are asked (leave-one-out and
    entry-left-out), since a learnt phrasing finds its entry far more surely than a customer's new wording.
    """
    n = len(index.entries)
    vectors = index.texts.reconstruct_n(0, index.texts.ntotal) if index.texts.ntotal else np.zeros((0, 1))
    texts = [text for entry in index.entries for text in entry.match_texts]
    owner = index.text_owner
    counts = np.bincount(owner, minlength=n) if len(owner) else np.zeros(n, int)
    rows = np.arange(len(texts))
    rng = np.random.default_rng(seed)
    in_rows = rows[counts[owner] >= 2] if len(rows) else rows
    near_rows = rows if n >= 3 else rows[:0]
    if unseen is not None:
        asked = np.array([text in unseen for text in texts], dtype=bool)
        in_rows, near_rows = in_rows[asked[in_rows]], near_rows[asked[near_rows]]
    if len(in_rows) > MAX_PSEUDO_QUERIES:
        in_rows = np.sort(rng.choice(in_rows, MAX_PSEUDO_QUERIES, replace=False))
    if len(near_rows) > MAX_PSEUDO_QUERIES // 2:
        near_rows = np.sort(rng.choice(near_rows, MAX_PSEUDO_QUERIES // 2, replace=False))
    out: list[tuple[np.ndarray, int, int, float, int, bool]] = []

    def ranked(vector: np.ndarray, text: str, masked_row: int | None, left_out: int | None) -> np.ndarray:
        sims = vectors @ vector
        keep = np.ones(len(sims), dtype=bool)
        if masked_row is not None:
            keep[masked_row] = False
        if left_out is not None:
            keep &= owner != left_out
        order = np.argsort(-sims[keep], kind="stable")
        question = best_phrasings_score(owner[keep][order], sims[keep][order].astype(np.float32), n)
        answer = (index.answer_vectors @ vector).astype(np.float32)
        cleaned = clean_question(text)
        lexical = index.lexical.coverage(cleaned)
        if masked_row is not None:  # the owner's terms without the held-out phrasing's own words
            entry = index.entries[owner[masked_row]]
            position = masked_row - _first_row(owner, int(owner[masked_row]))  # an entry's rows are contiguous
            others = [t for i, t in enumerate(entry.match_texts) if i != position]
            lexical[owner[masked_row]] = _coverage_in(index, cleaned, " ".join((*others, entry.answer)))
        scores = fuse(Signals(question, answer, lexical), answer_weight, lexical_weight)
        if left_out is not None:
            scores[left_out] = -np.inf
        top = np.argsort(-scores, kind="stable")[:TOP_K]
        pad = max(0, 3 - len(top))
        columns = [np.concatenate([a[top], np.full(pad, fill)]) for a, fill in
                   ((scores, -1.0), (question, -1.0), (answer, -1.0), (lexical, 0.0))]
        return np.stack(columns)[:, None, :3], top

    n_in, n_near, n_far = len(in_rows), len(near_rows), len(probe_texts)
    w_in = (1 - OUT_OF_SCOPE_SHARE) / max(n_in, 1)
    w_near = OUT_OF_SCOPE_SHARE / 2 / max(n_near, 1) if n_far else OUT_OF_SCOPE_SHARE / max(n_near, 1)
    w_far = OUT_OF_SCOPE_SHARE / 2 / max(n_far, 1) if n_near else OUT_OF_SCOPE_SHARE / max(n_far, 1)
    for row in in_rows:
        matrix, top = ranked(vectors[row], texts[row], int(row), None)
        gold = int(owner[row])
        out.append((features(*matrix)[0], int(top[0] == gold), int(gold in top[:MAX_OPTIONS]), w_in, gold, True))
    for row in near_rows:
        matrix, _ = ranked(vectors[row], texts[row], None, int(owner[row]))
        out.append((features(*matrix)[0], 0, 0, w_near, int(owner[row]), False))
    for number, (text, vector) in enumerate(zip(probe_texts, probe_vectors, strict=True)):
        matrix, _ = ranked(vector, text, None, None)
        out.append((features(*matrix)[0], 0, 0, w_far, n + number, False))
    if not out:
        empty = np.zeros(0)
        return PseudoQueries(np.zeros((0, 7)), empty, empty, empty, empty, empty.astype(bool))
    f, top1, top3, weight, group, scope = zip(*out, strict=True)
    return PseudoQueries(np.stack(f), np.array(top1), np.array(top3), np.array(weight), np.array(group),
                         np.array(scope))


def _first_row(owner: np.ndarray, entry: int) -> int:
    return int(np.argmax(owner == entry))


def _coverage_in(index: FaqIndex, query: str, document: str) -> float:
    """`LexicalIndex.coverage` of one query against one document given as text (the index's IDF)."""
    lexical = index.lexical
    terms = set(lexical.analyzer.terms(query))
    if not terms:
        return 0.0
    doc = set(lexical.analyzer.terms(document))
    weights = {t: lexical.idf.get(t, lexical.unknown_idf) for t in terms}
    return sum(w for t, w in weights.items() if t in doc) / sum(weights.values())


# --- fitting -------------------------------------------------------------------------------------------------
def fit(
    index: FaqIndex,
    probe_texts: list[str],
    probe_vectors: np.ndarray,
    answer_weight: float,
    lexical_weight: float,
    max_wrong_rate: float,
    unseen: Collection[str] | None = None,
) -> CalibrationResult:
    """Fit both models and the thresholds for this index; no fit (and a German note why) when data is too thin.

    `unseen`: see `pseudo_queries`."""
    data = pseudo_queries(index, probe_texts, probe_vectors, answer_weight, lexical_weight, unseen=unseen)
    n_in = int(data.in_scope.sum())
    right = int(data.right_at_top.sum())
    if n_in < MIN_IN_SCOPE or right < MIN_EACH_OUTCOME or len(data.right_at_top) - right < MIN_EACH_OUTCOME:
        return CalibrationResult(
            None,
            f"zu wenige Formulierungen zum Kalibrieren ({n_in}, mindestens {MIN_IN_SCOPE} nötig): "
            "es gelten die festen Schwellen",
        )
    answer_cv = cross_validated(data.features, data.right_at_top, data.group, data.weight)
    options_cv = cross_validated(data.features, data.right_in_options, data.group, data.weight)
    answer_at = answer_threshold(answer_cv, data.weight, max_wrong_rate)
    wrong = 1 - answer_cv
    answered = answer_cv >= answer_at
    clarified = ~answered & (options_cv >= CLARIFY_AT)
    scope = data.in_scope
    shares = Shares(
        answer=_share(answered[scope]),
        clarify=_share(clarified[scope]),
        handoff=_share((~answered & ~clarified)[scope]),
        answered_correct=_share((answered & (data.right_at_top == 1))[scope]),
        wrong=round(float((answered * wrong * data.weight).sum() / data.weight.sum()), 4),
        out_of_scope_not_answered=_share(~answered[~scope]),
        in_scope_queries=n_in,
        out_of_scope_queries=int((~scope).sum()),
    )
    calibration = Calibration(
        answer_model=_fit_linear(data.features, data.right_at_top, data.weight),
        options_model=_fit_linear(data.features, data.right_in_options, data.weight),
        answer_at=answer_at,  # as fitted: rounded, it could step over the probability it was set at
        clarify_at=CLARIFY_AT,
        max_wrong_rate=max_wrong_rate,
        shares=shares,
    )
    return CalibrationResult(calibration)


def _share(mask: np.ndarray) -> float:
    return round(float(mask.mean()), 4) if len(mask) else 0.0


def _fit_linear(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> LinearModel:
    """Weighted logistic regression on standardised features (L2 penalty as scikit-learn's at C = 1, weights scaled
    to mean 1) with every coefficient at least 0: each feature (score, lead, similarity, word agreement) may only
    speak for the top entry. Unconstrained, the pseudo-queries taught what does not hold for customers: held-out
    alternatives are worded apart from their entry on purpose, and a left-out entry's phrasings share its
    neighbours' words, so word agreement got a negative weight (on the real labelled shop questions: positive) and
    "Ich möchte einen Tisch reservieren" came within 0.016 of a direct answer on the demo shop
    (docs/benchmarks.md)."""
    from scipy.optimize import minimize

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    if len(set(y.tolist())) < 2:  # one outcome only: a constant model
        p = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
        return LinearModel(tuple(float(v) for v in mean), tuple(float(v) for v in scale), (0.0,) * x.shape[1],
                           float(np.log(p / (1 - p))))
    weight = np.ones(len(y)) if weight is None else weight / weight.mean()
    z = (x - mean) / scale
    sign = np.where(y == 1, 1.0, -1.0)

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept = params[:-1], params[-1]
        margin = sign * (z @ coef + intercept)
        loss = weight * np.logaddexp(0.0, -margin)
        slope = -weight * sign / (1.0 + np.exp(margin))  # d loss / d logit
        gradient = np.append(z.T @ slope + coef, slope.sum())
        return float(loss.sum() + 0.5 * coef @ coef), gradient

    bounds = [(0.0, None)] * x.shape[1] + [(None, None)]
    fitted = minimize(objective, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
    return LinearModel(tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                       tuple(float(v) for v in fitted[:-1]), float(fitted[-1]))


def cross_validated(x: np.ndarray, y: np.ndarray, groups: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities: each query judged by a model that never saw its entry."""
    from sklearn.model_selection import GroupKFold

    probabilities = np.zeros(len(y))
    folds = min(CV_FOLDS, len(set(groups.tolist())))
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        probabilities[test] = _fit_linear(x[train], y[train], weight[train]).probability(x[test])
    return probabilities


def answer_threshold(probability: np.ndarray, weight: np.ndarray, max_wrong_rate: float) -> float:
    """The lowest P(right) to answer at: the expected wrong answers, sum of (1 - P) times weight over the queries
    answered, stay within `max_wrong_rate` of all the weight. Expected, not counted (the module's docstring)."""
    return _lowest_threshold(probability, (1 - probability) * weight, max_wrong_rate * weight.sum())


def _lowest_threshold(probability: np.ndarray, wrong_weight: np.ndarray, budget: float) -> float:
    """The lowest threshold (not under ANSWER_FLOOR) at which the weight of wrong answers stays within budget."""
    order = np.argsort(-probability, kind="stable")
    wrong_so_far = np.cumsum(wrong_weight[order])
    within = wrong_so_far <= budget + 1e-12
    if not within[0]:
        return 1.0 + 1e-9  # even the surest pseudo-query alone spends more than the budget: never answer directly
    last = int(np.argmin(within)) - 1 if not within.all() else len(order) - 1
    threshold = float(probability[order][last])
    # ties: a threshold equal to a probability admits every query with it; step above a tie that breaks the budget
    if last + 1 < len(order) and probability[order][last + 1] == threshold:
        threshold = float(np.nextafter(threshold, 2.0))
    return max(threshold, ANSWER_FLOOR)


# --- persistence ----------------------------------------------------------------------------------------------
def save(result: CalibrationResult, folder: Path) -> None:
    """Beside the index (one folder per model), for operators and tools; the engine refits at every build."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"calibration.{os.getpid()}.tmp.json"
    text = result.calibration.to_json() if result.calibration else json.dumps({"note": result.note})
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / CALIBRATION_FILE)


def probe_questions(path: Path = PROBES_FILE) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# --- reporting -------------------------------------------------------------------------------------------------
def _percent(value: float) -> str:
    return f"{value * 100:.0f} %".replace(".", ",")


def summary_lines(result: CalibrationResult | None, fixed: bool = False) -> list[str]:
    """German lines for `lint` and the editors' FAQ page: what the bot is expected to do with questions."""
    if fixed:
        return ["Feste Schwellen aus den Einstellungen entscheiden; keine Kalibrierung."]
    if result is None:
        return []
    if result.calibration is None:
        return [f"Keine Kalibrierung: {result.note}."]
    c = result.calibration
    s = c.shares
    target = f"{c.max_wrong_rate * 100:.1f}".replace(".", ",").removesuffix(",0")
    wrong = f"{s.wrong * 100:.1f}".replace(".", ",")
    return [
        f"Erwartet bei Fragen, die das FAQ abdeckt: {_percent(s.answer)} direkt beantwortet, "
        f"{_percent(s.clarify)} Rückfrage mit Vorschlägen, {_percent(s.handoff)} Übergabe an das Team.",
        f"Erwartete falsche Antworten: {wrong} % aller Fragen (Ziel höchstens {target} %); "
        f"Fragen außerhalb des FAQ nicht beantwortet: {_percent(s.out_of_scope_not_answered)}.",
        f"Geschätzt aus {s.in_scope_queries} zurückgehaltenen Formulierungen und "
        f"{s.out_of_scope_queries} Fragen außerhalb des FAQ (weggelassene Einträge, themenfremde Fragen).",
    ]
