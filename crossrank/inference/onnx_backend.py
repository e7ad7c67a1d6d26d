"""The ONNX Runtime backend: a folder's ONNX export scores pairs behind the same :class:`Backend` protocol.

Finding the file: ``model.onnx`` at the folder root or in ``onnx/`` (the layout ONNX Runtime users, Sentence
Transformers and TEI load), or the ``file_name`` asked for (e.g. ``onnx/model_quint8_avx2.onnx``). The session
is tuned for CPU scoring: ``intra_op`` threads as given, one inter-op thread, sequential execution, every graph
optimisation, the memory arena and memory patterns on (batches come in a few recurring shapes).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("crossrank.model")

INSTALL_HINT = "pip install 'crossrank[onnx]'"
FP32_NAMES = ("model.onnx", "onnx/model.onnx")


def import_onnxruntime() -> Any:
    """``onnxruntime``, or an ImportError naming the extra to install."""
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError(f"the ONNX backend needs onnxruntime, which is not installed; run: {INSTALL_HINT}") from err
    return onnxruntime


def list_onnx_files(folder: str | os.PathLike[str]) -> list[str]:
    """The ``*.onnx`` files at the folder root and in ``onnx/``, as paths relative to the folder."""
    root = Path(folder)
    found = sorted(root.glob("*.onnx")) + sorted((root / "onnx").glob("*.onnx"))
    return [p.relative_to(root).as_posix() for p in found if p.is_file()]


def find_onnx_file(folder: str | os.PathLike[str], file_name: str | None = None) -> Path:
    """The ONNX file to load from ``folder``: ``file_name`` if given, else the fp32 ``model.onnx``.

    Raises:
        FileNotFoundError: no ONNX file at all (names ``crossrank export``), or ``file_name`` is not there
            (lists the ONNX files that are).
    """
    root = Path(folder)
    files = list_onnx_files(root)
    if file_name is not None:
        path = root / file_name
        if not path.is_file():
            raise FileNotFoundError(
                f"ONNX file {file_name!r} not found in {str(root)!r}; the ONNX files there are: "
                f"{', '.join(files) or 'none'}. Pass one of them as file_name, or write it with crossrank export."
            )
        return path
    if not files:
        raise FileNotFoundError(
            f"{str(root)!r} holds no ONNX model (looked for model.onnx and onnx/*.onnx); write one with: "
            f"crossrank export {root} --out DIR"
        )
    chosen = next((name for name in FP32_NAMES if name in files), files[0] if len(files) == 1 else None)
    if chosen is None:
        raise FileNotFoundError(
            f"{str(root)!r} holds several ONNX files and no model.onnx: {', '.join(files)}; pick one with "
            "file_name=..., or write the fp32 one with crossrank export."
        )
    others = [name for name in files if name != chosen]
    if others:
        logger.info("Loading %s; other ONNX files in the folder: %s (pick one with file_name=...)",
                    chosen, ", ".join(others))
    return root / chosen


def session_options(threads: int | None) -> Any:
    """CPU scoring settings: ``threads`` intra-op threads (None: ONNX Runtime's default), all optimisations."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be a positive integer or None; found {threads}.")
        options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = True
    return options


def open_session(path: str | os.PathLike[str], provider: str | None = None, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on ``path``; a missing or unreadable file is a one-line error."""
    ort = import_onnxruntime()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"ONNX file {str(path)!r} does not exist; write it with crossrank export MODEL --out DIR."
        )
    providers = [provider] if provider else ["CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(path), session_options(threads), providers=providers)
    except Exception as err:  # onnxruntime raises its own exception types for bad files
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"ONNX file {str(path)!r} could not be loaded ({reason}); it may be truncated or corrupt. "
            "Write it again with crossrank export MODEL --out DIR."
        ) from err


def session_inputs(session: Any, features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feed of ``session`` from padded ``features``; token types default to zeros when not given."""
    feed = {}
    for node in session.get_inputs():
        if node.name in features:
            feed[node.name] = features[node.name]
        elif node.name == "token_type_ids":
            feed[node.name] = np.zeros_like(features["input_ids"])
        else:
            raise ValueError(f"the ONNX model expects an input {node.name!r}; the tokenizer gives {sorted(features)}.")
    return feed


class OnnxBackend:
    """Scores padded batches with ONNX Runtime; the ``logits`` output (else the first one) as float32 ``(B, C)``.

    Args:
        path: the ONNX file.
        provider: an ONNX Runtime execution provider (default ``CPUExecutionProvider``).
        threads: intra-op threads (default: ONNX Runtime's, one per physical core).
    """

    # one ONNX Runtime call costs little beyond its tokens: -6 to 12 padded tokens of the int8 MiniLM on this
    # project's 2-core CPU (bench/bench_batch_cost.py), and 32-row batches were no cheaper per token than
    # 16-row ones, so tight batches win (python bench/bench_serve.py --batch-overhead-tokens N compares values)
    batch_overhead_tokens = 16

    def __init__(self, path: str | os.PathLike[str], provider: str | None = None, threads: int | None = None) -> None:
        self.path = Path(path)
        self.session = open_session(path, provider, threads)
        names = [node.name for node in self.session.get_outputs()]
        self.output = "logits" if "logits" in names else names[0]

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        out = self.session.run([self.output], session_inputs(self.session, features))[0]
        return np.asarray(out, dtype=np.float32)
