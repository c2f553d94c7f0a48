"""Fast query embeddings: a sentence-transformers folder exported to ONNX with int8 weights.

Why: a customer question is a batch of one short text, where PyTorch's per-call overhead and float32
matrix products cost ~25 ms. ONNX Runtime with dynamically quantised int8 weights (per output channel)
embeds it several times faster, with vectors at cosine ≥ 0.99 to the full model's (docs/benchmarks.md).
The graph is exported with plain ("eager") attention, so ONNX Runtime's BERT optimiser can fuse each layer's
attention, embeddings and layer norms into single operators before quantising: a short question runs a few
dozen kernels instead of ~600 (shape arithmetic of PyTorch's SDPA attention), about 20 % faster again.
Only questions take this path; index builds (batches of phrasings and answers) keep the full model, so the
embedding cache never holds int8 vectors.

    python -m knowledge_base.query_model models/e5-small-st [--force]

writes `models/query-onnx/<weights key>/query-int8.onnx` once (skipped when it exists); `train` does the same
for each fine-tuned model. The exports live apart from the model folders, keyed by the weights file's size and
mtime, so a read-only or shared model folder works and a folder renamed after export keeps its export.
The model must be BERT-like with mean pooling (e5).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge_base.settings import Settings

log = logging.getLogger(__name__)

MODEL_FILE = "query-int8.onnx"
MARKER = "query-int8.json"
EXPORT_VERSION = 2
"""Raise when the export or quantisation recipe changes: older files are then made again."""
MAX_TOKENS = 512


def export_folder(exports_dir: Path, model_dir: Path) -> Path | None:
    """Where the export of this folder's weights lives (None: no weights file, e.g. a hub name)."""
    weights = Path(model_dir) / "model.safetensors"
    if not weights.is_file():
        return None
    stat = weights.stat()
    identity = f"{stat.st_size}:{stat.st_mtime_ns}:v{EXPORT_VERSION}"
    return exports_dir / hashlib.sha256(identity.encode()).hexdigest()[:16]


def exported_model(exports_dir: Path, model_dir: Path) -> Path | None:
    """The int8 file exported from these very weights, else None."""
    folder = export_folder(exports_dir, model_dir)
    if folder is None or not (folder / MARKER).exists():
        return None
    return folder / MODEL_FILE if (folder / MODEL_FILE).exists() else None


def export(exports_dir: Path, model_dir: Path, force: bool = False) -> Path:
    """Export the transformer to ONNX, quantise its weights to int8 per channel; idempotent."""
    model_dir = Path(model_dir)
    existing = exported_model(exports_dir, model_dir)
    if existing is not None and not force:
        return existing
    target = export_folder(exports_dir, model_dir)
    if target is None:
        raise FileNotFoundError(f"{model_dir}: no model.safetensors to export")
    import torch
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from sentence_transformers import SentenceTransformer

    started = time.monotonic()
    model = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"})
    config = model[0].auto_model.config
    encoder = _HiddenStates(model[0].auto_model.eval())
    sample = model.tokenizer(["query: Wo ist mein Paket?"], return_tensors="pt")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as scratch:
        full = Path(scratch) / "full.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on this fixed, well-known graph
            torch.onnx.export(
                encoder,
                (sample["input_ids"], sample["attention_mask"]),
                str(full),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"}
                              for name in ("input_ids", "attention_mask", "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )
        fused = Path(scratch) / "fused.onnx"
        optimizer.optimize_model(str(full), model_type="bert", num_heads=config.num_attention_heads,
                                 hidden_size=config.hidden_size, opt_level=0).save_model_to_file(str(fused))
        quantised = Path(scratch) / MODEL_FILE
        quantize_dynamic(fused, quantised, weight_type=QuantType.QInt8, per_channel=True,  # fused outputs are float:
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
        shutil.move(quantised, target / MODEL_FILE)
    info = {"model": str(model_dir), "seconds": round(time.monotonic() - started, 1)}
    (target / MARKER).write_text(json.dumps(info, indent=1))
    log.info("exported %s for fast queries in %.0f s", model_dir.name, info["seconds"])
    return target / MODEL_FILE


def export_quietly(exports_dir: Path, model_dir: Path) -> Path | None:
    """`export`, but a failure only costs speed: the full model keeps embedding questions."""
    try:
        return export(exports_dir, model_dir)
    except Exception:  # any exporter failure must not stop training: it only costs speed
        log.warning("ONNX export of %s failed; questions use the full model", model_dir, exc_info=True)
        return None


class _HiddenStates:
    """Wraps the Hugging Face encoder so the exporter sees two tensors in, one tensor out."""

    def __new__(cls, encoder):  # a torch Module made lazily: torch is imported only when exporting
        import torch

        class Module(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = encoder

            def forward(self, input_ids, attention_mask):
                return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                    return_dict=True).last_hidden_state

        return Module()


class OnnxQueryModel:
    """The exported int8 encoder with the folder's tokenizer; mean pooling and L2 norm as sentence-transformers."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Rows padded to the longest text, not to a fixed length: a question is a dozen tokens, not 512."""
        encodings = [self.tokenizer.encode(text) for text in texts]  # no thread pool for a batch of one
        width = max(len(e.ids) for e in encodings)
        ids = np.ones((len(texts), width), dtype=np.int64)  # 1 = <pad> (XLM-R); masked out below
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def load(exports_dir: Path, model_dir: Path, threads: int | None = None) -> OnnxQueryModel | None:
    """The fast query model of a folder, or None (not exported, or a hub name) — then the full model serves."""
    model_dir = Path(model_dir)
    onnx_file = exported_model(exports_dir, model_dir)
    if onnx_file is None or not (model_dir / "tokenizer.json").exists():
        return None
    return OnnxQueryModel(onnx_file, model_dir / "tokenizer.json", threads)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export a sentence-transformers folder for fast queries.")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--force", action="store_true", help="export again even if up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # the quantiser logs every tensor at INFO
    log.setLevel(logging.INFO)
    exports_dir = Settings().query_exports_dir
    if exported_model(exports_dir, args.model_dir) is not None and not args.force:
        print(f"{args.model_dir}: fast query model up to date")
        return 0
    path = export(exports_dir, args.model_dir, force=args.force)
    print(f"{args.model_dir}: fast query model written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
