"""First-stage score fusion: blend the reranker's score with the retriever's score of the same document.

A reranker sees one (query, document) pair; the first stage (a bi-encoder or BM25) saw the whole corpus.
Their errors differ, so a weighted sum of the two scores, each normalised within the query's list, ranks
better than either alone on most data. The weight is chosen on a development split (``tune_fusion``) and
stored with the model, so ``CrossEncoder.rank(..., first_stage_scores=...)`` applies it at serving time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Normalization = Literal["zscore", "minmax", "none"]
NORMALIZATIONS: tuple[str, ...] = ("zscore", "minmax", "none")
DEFAULT_WEIGHTS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(21))


def normalize_scores(scores: Sequence[float] | np.ndarray, method: Normalization = "zscore") -> np.ndarray:
    """Scale one query's scores: ``zscore`` (mean 0, std 1), ``minmax`` (to [0, 1]) or ``none``.

    A list whose scores are all equal maps to zeros (it carries no ranking signal).
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if method not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}; found {method!r}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("fusion needs finite scores; found NaN or infinite values. Check the first-stage scores.")
    if method == "none" or values.size == 0:
        return values
    if method == "zscore":
        std = values.std()
        return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


@dataclass(frozen=True)
class Fusion:
    """``(1 - weight) * norm(reranker) + weight * norm(first_stage)`` within one query's list.

    Attributes:
        weight: Share of the first-stage score, in [0, 1]; 0 ranks by the reranker alone.
        normalize: Per-query normalisation of both scores before mixing.
        tuned_on: Where the weight was chosen (free text, shown in the model card), e.g. ``"dev map"``.
    """

    weight: float
    normalize: Normalization = "zscore"
    tuned_on: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.weight) <= 1.0:
            raise ValueError(f"fusion weight must be in [0, 1]; found {self.weight}.")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}; found {self.normalize!r}.")

    def apply(self, reranker_scores: Sequence[float] | np.ndarray,
              first_stage_scores: Sequence[float] | np.ndarray) -> np.ndarray:
        """Fused scores of one query's documents (same order as the inputs)."""
        rerank = np.asarray(reranker_scores, dtype=np.float64).reshape(-1)
        first = np.asarray(first_stage_scores, dtype=np.float64).reshape(-1)
        if rerank.shape != first.shape:
            raise ValueError(
                f"fusion needs one first-stage score per document: {rerank.size} reranker scores but "
                f"{first.size} first-stage scores. Pass first_stage_scores aligned with the documents."
            )
        w = float(self.weight)
        return (1.0 - w) * normalize_scores(rerank, self.normalize) + w * normalize_scores(first, self.normalize)

    def to_dict(self) -> dict[str, Any]:
        return {"weight": float(self.weight), "normalize": self.normalize, "tuned_on": self.tuned_on}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Fusion | None:
        if not data:
            return None
        return cls(float(data["weight"]), data.get("normalize", "zscore"), str(data.get("tuned_on", "")))


@dataclass(frozen=True)
class FusionList:
    """One query for tuning: relevance gains, the reranker's scores and the first stage's scores."""

    gains: Sequence[float]
    reranker_scores: np.ndarray
    first_stage_scores: np.ndarray


def tune_fusion(
    lists: Sequence[FusionList],
    metric: Callable[[Sequence[float], np.ndarray], float],
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    normalize: Normalization = "zscore",
    tuned_on: str = "",
    rule: Literal["plateau", "best"] = "plateau",
) -> tuple[Fusion, dict[float, float]]:
    """Choose the fusion weight from the mean ``metric(gains, fused_scores)`` over ``lists``.

    ``rule="best"`` takes the weight with the best mean (ties to the smallest). ``rule="plateau"`` (default)
    takes the median of the weights that are statistically tied with the best: their per-query difference
    to the best weight is within one paired standard error of zero. A development split usually also
    picked the checkpoint, which flatters the reranker alone and pushes the best weight towards 0 by
    chance; the middle of the plateau is the choice that holds up on unseen queries.

    Returns:
        The chosen :class:`Fusion` and the mean metric of every weight tried.
    """
    if not lists:
        raise ValueError("tune_fusion needs at least one query list; found none.")
    if not weights:
        raise ValueError("tune_fusion needs at least one candidate weight.")
    if rule not in ("plateau", "best"):
        raise ValueError(f"rule must be 'plateau' or 'best'; found {rule!r}.")
    per_query: dict[float, np.ndarray] = {}
    for weight in sorted({float(w) for w in weights}):
        fusion = Fusion(weight, normalize)
        per_query[weight] = np.array([metric(q.gains, fusion.apply(q.reranker_scores, q.first_stage_scores))
                                      for q in lists], dtype=np.float64)
    curve = {w: float(v.mean()) for w, v in per_query.items()}
    best = max(curve, key=lambda w: (curve[w], -w))
    chosen = best if rule == "best" else _plateau_median(per_query, best)
    return Fusion(chosen, normalize, tuned_on), curve


def _plateau_median(per_query: Mapping[float, np.ndarray], best: float) -> float:
    """Median of the weights whose mean paired difference to ``best`` is within one standard error of 0."""
    tied = []
    for weight, values in per_query.items():
        diff = values - per_query[best]
        se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0
        if diff.mean() + se >= 0.0:
            tied.append(weight)
    tied.sort()
    return tied[(len(tied) - 1) // 2]
