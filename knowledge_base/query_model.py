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
import gc
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from knowledge_base.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

MODEL_FILE = "query-int8.onnx"
MARKER = "query-int8.json"
EXPORT_VERSION = 3
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
    """Export the transformer to ONNX, quantise its weights to int8 per channel; idempotent.

    Each step (trace, fuse, quantise) runs in a fresh interpreter, so its memory goes back to the system when
    it ends: the peak is the largest step's, not the sum of all three (docs/benchmarks.md, Train).
    """
    model_dir = Path(model_dir)
    existing = exported_model(exports_dir, model_dir)
    if existing is not None and not force:
        return existing
    target = export_folder(exports_dir, model_dir)
    if target is None:
        raise FileNotFoundError(f"{model_dir}: no model.safetensors to export")
    started = time.monotonic()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as scratch:
        full, fused, quantised = (Path(scratch) / name for name in ("full.onnx", "fused.onnx", MODEL_FILE))
        _in_own_process("trace", model_dir, full)
        _in_own_process("fuse", full, model_dir, fused)
        _in_own_process("quantise", fused, model_dir, quantised)
        shutil.move(quantised, target / MODEL_FILE)
    info = {"model": str(model_dir), "seconds": round(time.monotonic() - started, 1)}
    (target / MARKER).write_text(json.dumps(info, indent=1))
    log.info("exported %s for fast queries in %.0f s", model_dir.name, info["seconds"])
    return target / MODEL_FILE


def _in_own_process(step: str, *paths: Path) -> None:
    """`STEPS[step](*paths)` in a fresh interpreter that dies with this one (a trainer stopped mid-export
    leaves none behind). A subprocess rather than multiprocessing's spawn, which would re-run the caller's
    unguarded `__main__`."""
    from common.child_processes import die_with_parent

    code = "import sys; from knowledge_base import query_model; query_model.run_step(sys.argv[1], *sys.argv[2:])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))))}
    subprocess.run([sys.executable, "-c", code, step, *map(str, paths)], check=True, env=env,
                   preexec_fn=die_with_parent())


def run_step(step: str, *paths: str) -> None:
    """One export step, in the interpreter `_in_own_process` started."""
    STEPS[step](*map(Path, paths))


STAND_IN_ROWS = 3
"""Rows of the word-embedding stand-in the graph is traced and fused with (see `_trace`)."""


def _trace(model_dir: Path, full: Path) -> None:
    """The encoder as an ONNX graph of plain operators.

    The word-embedding matrix (250k tokens x 384: 80 % of e5-small's weights) is traced as a stand-in of
    `STAND_IN_ROWS` rows and put back, quantised, at the end (`_quantise`): the graph tools copy every weight
    several times (the fusion peaked at 4.1 GB with it), and this one they never change.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"})
    auto_model = model[0].auto_model.eval()
    config = auto_model.config
    stand_in = torch.nn.Embedding(STAND_IN_ROWS, config.hidden_size)
    auto_model.set_input_embeddings(stand_in)
    gc.collect()
    encoder = _HiddenStates(auto_model)
    ids = torch.tensor([[0] + [2] * 6 + [STAND_IN_ROWS - 1]])  # values within the stand-in; the graph is the same
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on this fixed, well-known graph
        torch.onnx.export(
            encoder,
            (ids, torch.ones_like(ids)),
            str(full),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"}
                          for name in ("input_ids", "attention_mask", "last_hidden_state")},
            opset_version=17,
            dynamo=False,
        )


def _fuse(full: Path, model_dir: Path, fused: Path) -> None:
    """Each layer's attention, the embeddings and the layer norms as single ONNX Runtime operators."""
    from onnxruntime.transformers import optimizer

    config = json.loads((model_dir / "config.json").read_text())
    optimizer.optimize_model(str(full), model_type="bert", num_heads=config["num_attention_heads"],
                             hidden_size=config["hidden_size"], opt_level=0).save_model_to_file(str(fused))


def _quantise(fused: Path, model_dir: Path, quantised: Path) -> None:
    """int8 weights per output channel, then the real word embeddings quantised in place of the stand-in's.

    The embeddings are quantised as `quantize_dynamic` does its Gather weights (ONNX Runtime's own
    `quantize_data`, unsigned, asymmetric, per tensor: bit for bit the same), without the quantiser ever
    copying the 250k-row matrix around (2.8 GB when it did).
    """
    import onnx
    from onnx import TensorProto, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.quant_utils import quantize_data
    from safetensors import safe_open

    quantize_dynamic(fused, quantised, weight_type=QuantType.QInt8, per_channel=True,  # fused outputs are float:
                     extra_options={"DefaultTensorType": TensorProto.FLOAT})
    graph = onnx.load(str(quantised))
    tensors = {tensor.name: tensor for tensor in graph.graph.initializer}
    stand_ins = [name for name, t in tensors.items() if name.endswith("_quantized") and t.dims[:1] == [STAND_IN_ROWS]]
    if len(stand_ins) != 1:
        raise RuntimeError(f"expected one quantised word-embedding stand-in, found {stand_ins}")
    base = stand_ins[0].removesuffix("_quantized")
    values, scale, zero = tensors[stand_ins[0]], tensors[base + "_scale"], tensors[base + "_zero_point"]
    with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as weights:
        name = next(key for key in weights.keys() if key.endswith("word_embeddings.weight"))  # noqa: SIM118
        matrix = weights.get_tensor(name).astype(np.float32)
    zero_point, step, quantized = quantize_data(matrix, values.data_type, symmetric=False)
    del matrix
    values.CopyFrom(numpy_helper.from_array(quantized, values.name))
    scale.CopyFrom(numpy_helper.from_array(np.asarray(step, dtype=np.float32), scale.name))
    zero.CopyFrom(numpy_helper.from_array(np.asarray(zero_point), zero.name))
    onnx.save(graph, str(quantised))


STEPS: dict[str, Callable[..., None]] = {"trace": _trace, "fuse": _fuse, "quantise": _quantise}


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
