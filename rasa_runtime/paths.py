"""Where the Rasa venv, the dialogue files and the trained model live."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA_VENV = ROOT / ".venv-rasa"
RASA = RASA_VENV / "bin" / "rasa"
CONFIG = ROOT / "config.yml"
DOMAIN = ROOT / "domain.yml"
DATA = ROOT / "data"
CREDENTIALS = ROOT / "credentials.yml"
MODEL_DIR = ROOT / "models" / "rasa"
MODEL_NAME = "auskunft"
MODEL = MODEL_DIR / f"{MODEL_NAME}.tar.gz"
STAMP = MODEL_DIR / f"{MODEL_NAME}.sha256"
VAR = ROOT / "var"


def rasa_env(**extra: str) -> dict[str, str]:
    """The environment for Rasa commands: no telemetry, no GPU probing noise."""
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.update(extra)
    return env
