"""Shared input checks for evaluators that score a list of text pairs against one target per pair."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def check_pairs(evaluator: str, pairs: Sequence[Sequence[str]], targets: Sequence[Any], target_name: str) -> list:
    """Validate ``pairs`` against ``targets`` and return the pairs as a list of 2-tuples.

    Args:
        evaluator: Class name used in error messages.
        pairs: ``(text_a, text_b)`` pairs.
        targets: One gold label or score per pair.
        target_name: What the targets are called (``"labels"``, ``"scores"``).

    Returns:
        The pairs as tuples.
    """
    pairs = list(pairs)
    if len(pairs) != len(targets):
        raise ValueError(
            f"{evaluator}: got {len(pairs)} sentence pairs and {len(targets)} {target_name}; "
            f"pass exactly one {target_name[:-1]} per pair."
        )
    if not pairs:
        raise ValueError(f"{evaluator}: got no sentence pairs; pass at least one (text_a, text_b) pair.")
    out = []
    for index, pair in enumerate(pairs):
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(
                f"{evaluator}: pair {index} must hold exactly two texts; got {pair!r}. "
                "Pass a list of (text_a, text_b) pairs."
            )
        out.append((pair[0], pair[1]))
    return out


def predict_all(model: Any, pairs: list, batch_size: int, show_progress_bar: bool | None) -> np.ndarray:
    """Score every pair in one ``model.predict`` call and return the predictions as a float array."""
    scores = model.predict(pairs, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=show_progress_bar)
    scores = np.asarray(scores)
    if scores.shape[0] != len(pairs):
        raise ValueError(f"the model returned {scores.shape[0]} predictions for {len(pairs)} pairs.")
    return scores
