"""The scoring engine: (query, document) pairs in, float32 logits out, in input order.

Every path that scores pairs (``CrossEncoder.predict`` / ``rank`` / ``logits``, the evaluators, the HTTP
server) goes through :class:`ScoringEngine`: tokenize once, plan length-sorted batches
(:func:`crossrank.inference.batching.plan_batches`), pad each batch, run a :class:`Backend`, scatter the
logits back. Backends are small: a callable from padded int64 feature arrays to ``(B, C)`` logits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from crossrank.inference.batching import pad_batch, plan_batches

logger = logging.getLogger("crossrank.model")

FEATURE_KEYS = ("input_ids", "attention_mask", "token_type_ids")


class Backend(Protocol):
    """Runs one padded batch: ``{input_ids, attention_mask[, token_type_ids]}`` (int64) -> logits (B, C).

    A backend may declare ``batch_overhead_tokens``: what one more forward pass costs beyond its tokens, in
    padded tokens. The server's batcher cuts its rounds where padding plus this per batch is least;
    ``bench/bench_batch_cost.py`` measures it (a line of batch time on rows, per width).
    """

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray: ...


class TorchBackend:
    """The PyTorch backend: a Hugging Face sequence-classification model, on whatever device it sits."""

    # eager PyTorch pays Python dispatch per layer and op on every forward. Alone, a small batch costs ~35-90
    # padded tokens more than its tokens on this project's 2-core CPU (bench/bench_batch_cost.py, noisy); inside
    # the loaded server more (its threads share the cores), where 160 beat 32 at 16 clients (compare with
    # python bench/bench_serve.py --batch-overhead-tokens N)
    batch_overhead_tokens = 160

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        device = next(self.model.parameters()).device
        batch = {k: torch.from_numpy(v).to(device) for k, v in features.items()}
        with torch.inference_mode():
            logits = self.model(**batch, return_dict=True).logits
        return logits.float().cpu().numpy()


@dataclass
class EncodedPairs:
    """Token id lists of pairs (truncated at ``max_length``), their lengths and which were cut."""

    features: dict[str, list[list[int]]]
    lengths: np.ndarray
    truncated: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)


class ScoringEngine:
    """Tokenizer + backend: ``logits(pairs) -> (N, C) float32`` in input order.

    Args:
        tokenizer: a Hugging Face tokenizer (pairs are encoded as ``tokenizer(queries, documents)``).
        backend: a :class:`Backend`.
        max_length: longest pair in tokens; longer pairs are cut longest-first.
        num_labels: outputs per pair (C).
    """

    def __init__(self, tokenizer: Any, backend: Backend, max_length: int, num_labels: int) -> None:
        self.tokenizer = tokenizer
        self.backend = backend
        self.max_length = int(max_length)
        self.num_labels = int(num_labels)

    @property
    def pad_id(self) -> int:
        return int(self.tokenizer.pad_token_id or 0)

    def encode(self, pairs: Sequence[tuple[str, str]], max_length: int | None = None) -> EncodedPairs:
        """Tokenize pairs once, without padding; ``truncated`` marks the pairs longer than ``max_length``."""
        limit = int(max_length or self.max_length)
        if not pairs:
            empty = {k: [] for k in ("input_ids", "attention_mask")}
            return EncodedPairs(empty, np.zeros(0, np.int64), np.zeros(0, bool))
        enc = self.tokenizer([p[0] for p in pairs], [p[1] for p in pairs], padding=False,
                             truncation="longest_first", max_length=limit)
        features = {k: enc[k] for k in FEATURE_KEYS if k in enc}
        lengths = np.fromiter((len(x) for x in features["input_ids"]), dtype=np.int64, count=len(pairs))
        return EncodedPairs(features, lengths, self._longer_than(pairs, lengths, limit))

    def _longer_than(self, pairs: Sequence[tuple[str, str]], lengths: np.ndarray, limit: int) -> np.ndarray:
        """Which pairs were cut: of those that fill ``limit``, the ones whose whole encoding is longer."""
        cut = lengths >= limit
        rows = np.flatnonzero(cut)
        if rows.size:
            whole = self.tokenizer([pairs[i][0] for i in rows], [pairs[i][1] for i in rows], padding=False,
                                   truncation=False, verbose=False)["input_ids"]
            cut[rows] = np.fromiter((len(ids) > limit for ids in whole), dtype=bool, count=rows.size)
        return cut

    @property
    def batch_overhead_tokens(self) -> int | None:
        """The backend's cost of one more forward pass in padded tokens (None when it does not say)."""
        value = getattr(self.backend, "batch_overhead_tokens", None)
        return None if value is None else int(value)

    def plan(self, lengths: np.ndarray, batch_size: int, max_tokens: int | None = None,
             batch_overhead: int | None = None) -> list[np.ndarray]:
        """Length-sorted batches of positions (see :func:`plan_batches`)."""
        return plan_batches(lengths, batch_size, max_tokens, batch_overhead=batch_overhead)

    def run(self, encoded: EncodedPairs, idx: np.ndarray) -> np.ndarray:
        """Float32 logits ``(len(idx), C)`` for the rows ``idx`` of ``encoded``."""
        logits = np.asarray(self.backend(pad_batch(encoded.features, idx, self.pad_id)), dtype=np.float32)
        if logits.ndim == 1:
            logits = logits[:, None]
        return logits

    def logits(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32, max_tokens: int | None = None,
               show_progress_bar: bool = False) -> np.ndarray:
        """Float32 logits ``(N, C)`` of ``pairs`` in input order; warns once about truncated pairs."""
        out = np.empty((len(pairs), self.num_labels), dtype=np.float32)
        if not pairs:
            return out
        encoded = self.encode(pairs)
        warn_truncation(encoded, self.max_length)
        for idx in tqdm(self.plan(encoded.lengths, batch_size, max_tokens), desc="Scoring",
                        disable=not show_progress_bar, unit="batch"):
            out[idx] = self.run(encoded, idx)
        return out


def warn_truncation(encoded: EncodedPairs, max_length: int) -> None:
    """Log how many pairs were longer than ``max_length`` (and were cut)."""
    hit = int(encoded.truncated.sum())
    if hit:
        logger.warning(
            "%d of %d pairs are longer than max_length=%d tokens and were truncated (longest first). "
            "Raise max_length to score them whole.", hit, len(encoded), max_length,
        )
