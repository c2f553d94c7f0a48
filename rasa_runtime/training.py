"""`rasa train` only when config.yml, domain.yml or data/ changed (content hash in a stamp file)."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from rasa_runtime.paths import CONFIG, DATA, DOMAIN, MODEL, MODEL_DIR, MODEL_NAME, RASA, ROOT, STAMP, rasa_env


def training_files() -> list[Path]:
    return [CONFIG, DOMAIN, *sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))]


def training_hash() -> str:
    """Hash of the files `rasa train` reads, with their relative paths (a rename retrains)."""
    digest = hashlib.sha256()
    for path in training_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current() -> bool:
    return MODEL.exists() and STAMP.exists() and STAMP.read_text().strip() == training_hash()


def ensure_trained(force: bool = False, use_cache: bool = True) -> float | None:
    """Train if needed; returns the training time in seconds, or None when the model was current.

    `use_cache=False` switches off Rasa's component cache (.rasa/cache), for honest timings.
    """
    if is_current() and not force:
        return None
    digest = training_hash()
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), "train", "--config", str(CONFIG), "--domain", str(DOMAIN), "--data", str(DATA),
         "--out", str(MODEL_DIR), "--fixed-model-name", MODEL_NAME],
        cwd=ROOT, env=rasa_env() if use_cache else rasa_env(RASA_MAX_CACHE_SIZE="0"), check=True,
    )
    STAMP.write_text(digest + "\n")
    return time.perf_counter() - started


def validate() -> None:
    """`rasa data validate`; raises CalledProcessError on errors (warnings pass)."""
    subprocess.run(
        [str(RASA), "data", "validate", "--config", str(CONFIG), "--domain", str(DOMAIN), "--data", str(DATA)],
        cwd=ROOT, env=rasa_env(), check=True,
    )
