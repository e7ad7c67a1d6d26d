"""What every evaluator shares: input checks of text pairs, and the one way it gets scores or raw logits.

Scores come from ``model.predict`` and raw logits from ``model.logits`` (for a :class:`~crossrank.CrossEncoder`
both run its scoring engine); each evaluator makes one such call over all its pairs.
"""

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


def predict_all(model: Any, pairs: list, batch_size: int, show_progress_bar: bool | None,
                one_label: bool = False) -> np.ndarray:
    """Score every pair in one ``model.predict`` call; ``one_label``: a flat float64 array, one score a pair."""
    if one_label and not pairs:
        return np.zeros(0, dtype=np.float64)
    scores = model.predict(pairs, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=show_progress_bar)
    scores = np.asarray(scores, dtype=np.float64) if one_label else np.asarray(scores)
    if one_label and scores.size != len(pairs):
        raise ValueError(
            f"expected one score per pair ({len(pairs)} scores); the model returned shape {scores.shape}. "
            "Reranking needs a model with one output label (num_labels=1)."
        )
    if scores.shape[0] != len(pairs):
        raise ValueError(f"the model returned {scores.shape[0]} predictions for {len(pairs)} pairs.")
    return scores.reshape(-1) if one_label else scores


def logits_all(model: Any, pairs: list, batch_size: int, show_progress_bar: bool | None) -> np.ndarray:
    """Raw logits of a one-label model for every pair in one ``model.logits`` call, flat float64."""
    if not pairs:
        return np.zeros(0, dtype=np.float64)
    logits = np.asarray(model.logits(pairs, batch_size=batch_size, show_progress_bar=show_progress_bar),
                        dtype=np.float64)
    if logits.size != len(pairs):
        raise ValueError(
            f"expected one logit per pair ({len(pairs)}); the model returned shape {logits.shape}. "
            "Fusion needs a model with one output label (num_labels=1)."
        )
    return logits.reshape(-1)


def activate(model: Any, logits: np.ndarray) -> np.ndarray:
    """The model's own activation applied to raw ``logits`` (what ``predict`` would have returned)."""
    from crossrank.inference.activation import apply_activation

    return apply_activation(getattr(model, "activation_fn", None), logits).reshape(-1)
