"""TEMPORARY stand-in for ``crossrank.inference.engine`` (issue 12) until it lands on main; delete after rebase.

It implements exactly the agreed API (EncodedPairs, ScoringEngine.encode/plan/run) on top of the
CrossEncoder's tokenizer and Hugging Face module, so the server is written against the real contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass
class EncodedPairs:
    features: dict[str, list[list[int]]]
    lengths: np.ndarray
    truncated: np.ndarray


class ScoringEngine:
    def __init__(self, model: Any) -> None:
        self._model = model
        self.num_labels = int(model.num_labels)
        self.max_length = int(model.max_length)

    def encode(self, pairs: Sequence[tuple[str, str]], max_length: int | None = None) -> EncodedPairs:
        limit = max_length or self.max_length
        tok = self._model.tokenizer
        queries, docs = [p[0] for p in pairs], [p[1] for p in pairs]
        full = tok(queries, docs, truncation=False, padding=False)["input_ids"]
        enc = tok(queries, docs, truncation="longest_first", max_length=limit, padding=False)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
        lengths = np.array([len(x) for x in enc["input_ids"]], dtype=np.int64)
        truncated = np.array([len(x) > limit for x in full], dtype=bool)
        return EncodedPairs({k: list(enc[k]) for k in keys}, lengths, truncated)

    def plan(self, lengths: np.ndarray, batch_size: int, max_tokens: int | None = None) -> list[np.ndarray]:
        order = np.argsort(-np.asarray(lengths), kind="stable")
        batches: list[np.ndarray] = []
        start = 0
        while start < len(order):
            end = start + 1
            width = int(lengths[order[start]])
            while end < len(order) and end - start < batch_size and (
                    max_tokens is None or width * (end - start + 1) <= max_tokens):
                end += 1
            batches.append(order[start:end])
            start = end
        return batches

    @torch.inference_mode()
    def run(self, encoded: EncodedPairs, idx: np.ndarray) -> np.ndarray:
        from crossrank._predict import pad_batch

        pad_id = self._model.tokenizer.pad_token_id or 0
        batch = {k: v.to(self._model.device) for k, v in pad_batch(encoded.features, idx, pad_id).items()}
        self._model.model.eval()
        return self._model.model(**batch, return_dict=True).logits.float().cpu().numpy()


def engine_of(model: Any) -> Any:
    engine = getattr(model, "engine", None)
    return engine if engine is not None else ScoringEngine(model)
