"""Scores of the parity gate's pairs under torch and under an ONNX file, for rerankers and embedders.

A reranker's pair score is its logit (raw output: the logits); an embedder's is the cosine of the query and
document vectors (raw output: the vectors of every distinct text). Both sides load the exported folder through
crossrank's own loaders, so the check covers what users will run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.export.check_data import CandidateList


@dataclass
class Reference:
    """The torch side: per-pair scores, raw outputs, and what the exporter needs from the loaded model."""

    scores: np.ndarray
    raw: np.ndarray
    tokenizer: Any
    transformer_path: Path


def _pairs(lists: list[CandidateList]) -> list[tuple[str, str]]:
    return [(item.query, doc) for item in lists for doc in item.documents]


def _embedder_scores(embedder: Any, lists: list[CandidateList]) -> tuple[np.ndarray, np.ndarray]:
    pairs = _pairs(lists)
    texts = list(dict.fromkeys([t for pair in pairs for t in pair]))
    position = {text: i for i, text in enumerate(texts)}
    vectors = np.asarray(embedder.encode(texts, show_progress_bar=False), dtype=np.float64)
    cosines = np.array([vectors[position[q]] @ vectors[position[d]] for q, d in pairs])
    return cosines, vectors


def _reranker_scores(model: Any, lists: list[CandidateList]) -> tuple[np.ndarray, np.ndarray]:
    logits = np.asarray(model.logits(_pairs(lists)), dtype=np.float64)
    return logits[:, -1], logits


def torch_scores(folder: Path, kind: str, lists: list[CandidateList]) -> Reference:
    """Score with the PyTorch weights in ``folder``; a reranker's config is rewritten with its activation."""
    if kind == "reranker":
        from crossrank.inference.activation import store_in_config
        from crossrank.model import CrossEncoder

        model = CrossEncoder(folder, device="cpu")
        store_in_config(model.config, model.activation_fn)
        model.config.save_pretrained(folder)  # the activation (and any fusion weight) is stored in config.json
        scores, raw = _reranker_scores(model, lists)
        return Reference(scores, raw, model.tokenizer, folder)
    from transformers import AutoTokenizer

    from crossrank.embedder import Embedder

    embedder = Embedder(folder, device="cpu", backend="transformers")
    scores, raw = _embedder_scores(embedder, lists)
    path = embedder.layout.transformer_path
    return Reference(scores, raw, AutoTokenizer.from_pretrained(str(path)), path)


def onnx_scores(folder: Path, kind: str, lists: list[CandidateList], file_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Score with the ONNX file ``file_name`` of ``folder`` through crossrank's ONNX backends."""
    if kind == "reranker":
        from crossrank.model import CrossEncoder

        return _reranker_scores(CrossEncoder(folder, backend="onnx", file_name=file_name), lists)
    from crossrank.embedder import Embedder

    return _embedder_scores(Embedder(folder, backend="onnx", file_name=file_name), lists)
