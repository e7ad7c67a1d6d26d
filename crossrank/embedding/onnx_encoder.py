"""The :class:`~crossrank.embedder.Embedder`'s ONNX path: an exported encoder run by ONNX Runtime.

The folder's ONNX file (``onnx/model.onnx`` as ``crossrank export --kind embedder`` or Sentence Transformers
write it, or an int8 file chosen with ``file_name``) maps ``input_ids`` / ``attention_mask`` [/
``token_type_ids``] to token states ``(B, T, H)`` (output ``last_hidden_state`` or ``token_embeddings``);
pooling stays the Embedder's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from crossrank.inference.onnx_backend import find_onnx_file, open_session, session_inputs

HIDDEN_OUTPUTS = ("last_hidden_state", "token_embeddings")


class OnnxEncoder:
    """Token states of padded batches from an ONNX encoder.

    Args:
        folder: the embedding model folder (ONNX file at its root or in ``onnx/``).
        config_folder: where the encoder's ``config.json`` is (the Transformer module's folder).
        file_name, provider, threads: as for :class:`~crossrank.inference.onnx_backend.OnnxBackend`.
    """

    def __init__(self, folder: Path, config_folder: Path, file_name: str | None = None, provider: str | None = None,
                 threads: int | None = None) -> None:
        self.path = find_onnx_file(folder, file_name)
        self.session = open_session(self.path, provider, threads)
        outputs = list(self.session.get_outputs())
        named = [node.name for node in outputs if node.name in HIDDEN_OUTPUTS]
        ranked3 = [node.name for node in outputs if len(node.shape or []) == 3]
        if not (named or ranked3):
            raise ValueError(
                f"ONNX file {str(self.path)!r} has no token-state output (expected one of {list(HIDDEN_OUTPUTS)}); "
                "export the embedder with crossrank export MODEL --out DIR --kind embedder."
            )
        self.output = (named or ranked3)[0]
        config = json.loads((config_folder / "config.json").read_text(encoding="utf-8"))
        self.hidden_size = int(config["hidden_size"])
        self.max_positions = config.get("max_position_embeddings")

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        out = self.session.run([self.output], session_inputs(self.session, features))[0]
        return np.asarray(out, dtype=np.float32)
