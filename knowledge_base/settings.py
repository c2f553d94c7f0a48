"""Engine settings, from environment variables (prefix `AUSKUNFT_`) or defaults.

Defaults suit one machine with the converted e5-small model; an operator with
hub access can point `AUSKUNFT_EMBEDDING_MODEL` at any sentence-transformers model.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Thresholds(BaseModel):
    """Decision thresholds on the fused score; defaults chosen by benchmarks/tune_thresholds.py.

    See docs/benchmarks.md for the trade-off curve behind them.
    """

    answer: float = 0.83
    """Top score needed to answer directly."""
    margin: float = 0.04
    """Lead of the top candidate over the runner-up needed to answer directly."""
    clarify: float = 0.82
    """Top score needed to offer candidates instead of handing off."""
    clarify_window: float = 0.03
    """Candidates within this distance of the top one are offered as options."""


TRAINED_THRESHOLDS = Thresholds(answer=0.68, margin=0.08, clarify=0.45, clarify_window=0.06)
"""A fine-tuned model spreads similarities wider (related texts drop to ~0.5), so its cut-offs are lower."""


class Settings(BaseSettings):
    """Where things live and which model embeds."""

    model_config = SettingsConfigDict(env_prefix="AUSKUNFT_", env_nested_delimiter="__")

    faq_dir: Path = PROJECT_ROOT / "knowledge_base" / "faqs"
    models_dir: Path = PROJECT_ROOT / "models"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    embedding_model: str = str(PROJECT_ROOT / "models" / "e5-small-st")
    """A sentence-transformers model name or folder."""
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    use_trained_model: bool = True
    """Prefer a model fine-tuned on this knowledge base (`train`) when one exists."""
    kb_watch: bool = True
    """`AUSKUNFT_KB_WATCH`: reload when FAQ files are saved. Like every flag, 1/true/yes/on or 0/false/no/off."""
    redis_url: SecretStr = SecretStr("")
    """`AUSKUNFT_REDIS_URL`: several replicas (gateways, action servers) share one FAQ folder — a reload is
    broadcast to all of them and FAQ writes take one lock across them (knowledge_base/broadcast.py,
    authoring/write_lock.py). Empty: one machine, the file watchers and a lock per process, as before."""
    answer_weight: float = 0.5
    lexical_weight: float = 0.1
    torch_threads: int = Field(default=1, ge=1)
    """Threads per query: one query gains little from more, and under load more threads thrash
    (measured in the action server: 24 ms with 1 thread, ~970 ms with 2 while training ran)."""
    fast_queries: bool = True
    """`AUSKUNFT_FAST_QUERIES`: embed customer questions with the model's int8 ONNX export (made at set-up and
    by `train`; knowledge_base/query_model.py) when present; off, or without the export, the full model does."""
    keep_full_model: bool = True
    """`AUSKUNFT_KEEP_FULL_MODEL`: keep the PyTorch model loaded between index builds although the int8 export
    answers the questions, so an editor's saved FAQ is live in a tenth of a second. Off, a process holds ~400 MB
    less after each build, and every reload that embeds changed texts first loads the model again (~10 s under
    load; questions keep being answered meanwhile). Either way a restart on a built index loads it only when a
    build needs it."""
    training_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    max_wrong_rate: float = Field(default=0.01, gt=0, lt=1)
    """`AUSKUNFT_MAX_WRONG_RATE`: the share of all questions the bot may answer wrongly. Each build and `train`
    fits the answer/clarify/hand-off decision to the knowledge base for it (knowledge_base/calibration.py)."""
    calibrate: bool = True
    """`AUSKUNFT_CALIBRATE=0`: decide by the fixed thresholds below instead (so does setting any of them)."""
    thresholds: Thresholds = Field(default_factory=Thresholds)
    """For the base model, e.g. `AUSKUNFT_THRESHOLDS__ANSWER=0.9`; also where a knowledge base is too small to
    calibrate."""
    trained_thresholds: Thresholds = Field(default_factory=lambda: TRAINED_THRESHOLDS.model_copy())
    """For a model fine-tuned on the knowledge base (its similarities spread wider)."""
    learned_pairs_file: Path | None = None
    """`AUSKUNFT_LEARNED_PAIRS_FILE`: the (question, entry) pairs confirmed in the service, which `train` adds
    (knowledge_base/learned_pairs.py); the gateway writes it. Default: `learned_pairs.jsonl` beside the index
    folder (`var/`)."""

    @property
    def fixed_thresholds(self) -> bool:
        """The operator chose fixed thresholds: calibration off, or any threshold set explicitly."""
        return not self.calibrate or bool({"thresholds", "trained_thresholds"} & self.model_fields_set)

    @property
    def trained_models_dir(self) -> Path:
        return self.models_dir / "trained"

    @property
    def learned_pairs_path(self) -> Path:
        return self.learned_pairs_file or self.index_dir.parent / "learned_pairs.jsonl"

    @property
    def query_exports_dir(self) -> Path:
        """The int8 ONNX exports for fast questions (knowledge_base/query_model.py), one folder per weights."""
        return self.models_dir / "query-onnx"

    @property
    def fast_query_exports(self) -> Path | None:
        """What embedders get as `query_exports`: None when fast questions are switched off."""
        return self.query_exports_dir if self.fast_queries else None
