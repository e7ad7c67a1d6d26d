"""``MemoScorer``: a model whose raw logits are computed once per (query, document) pair, however often asked.

After training, ``fit`` reads the same dev pairs three times: to choose the rerank depth (at the plan's depth),
to tune the fusion weight and to report the fused metrics (at the chosen depth, a subset of the first). The
wrapper scores each distinct pair once through the model's own :meth:`~crossrank.CrossEncoder.logits` and
answers repeats from memory, so the budget goes to training instead of rescoring. The memo is kept per
``max_length`` (a pair truncated differently scores differently); it is only valid while the model's weights
stay as they are: build a new one after any training step.

Attribute reads and writes other than its own go to the wrapped model (``scorer.fusion = ...`` stores the
fusion on the model that is saved).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_OWN = ("_model", "_memo")


class MemoScorer:
    """Wraps a model that has ``logits(pairs, batch_size=, show_progress_bar=)``; see the module docstring."""

    def __init__(self, model: Any) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_memo", {})

    def logits(self, pairs: Sequence[Sequence[str]], batch_size: int = 32,
               show_progress_bar: bool | None = None) -> np.ndarray:
        """Float32 logits ``(N, num_labels)`` in input order; pairs not seen before are scored in one call."""
        memo = self._memo.setdefault(getattr(self._model, "max_length", None), {})
        keys = [(str(p[0]), str(p[1])) for p in pairs]
        new = list(dict.fromkeys(k for k in keys if k not in memo))
        if new:
            scored = np.asarray(self._model.logits(new, batch_size=batch_size, show_progress_bar=show_progress_bar),
                                dtype=np.float32)
            memo.update(zip(new, scored.reshape(len(new), -1)))
        if not keys:
            return np.zeros((0, int(getattr(self._model, "num_labels", 1) or 1)), dtype=np.float32)
        return np.stack([memo[k] for k in keys])

    @property
    def scored_pairs(self) -> int:
        """How many distinct (pair, max_length) scorings the model has done through this wrapper."""
        return sum(len(m) for m in self._memo.values())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN:
            raise AttributeError(f"MemoScorer.{name} is set once, by the constructor.")
        setattr(self._model, name, value)
