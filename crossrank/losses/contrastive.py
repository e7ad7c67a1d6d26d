"""In-batch contrastive losses: each query's positive against negatives taken from the other rows.

The grid is the ``in_batch`` one of ``crossrank.data.grid``: row i holds ``[positive_i, n sampled
negatives, the row's own hard negatives]``, where the sampled negatives are positives or hard negatives of
OTHER rows (never row i's own documents). The maths is then a softmax cross-entropy with the positive at
slot 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from crossrank.data.grid import GridSpec
from crossrank.losses._utils import (
    activation_name,
    apply_activation,
    check_grid,
    check_mini_batch_size,
    check_num_labels,
)
from crossrank.losses.base import RerankLoss

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

Activation = Callable[[Tensor], Tensor]
_SIGMOID = nn.Sigmoid()


class MultipleNegativesRankingLoss(RerankLoss):
    """Softmax cross-entropy of each query's positive against in-batch and hard negatives.

    For row i the candidates are its positive, ``num_negatives`` documents drawn from the other rows
    (their positives and hard negatives), and row i's own hard negatives, if any. Scores go through
    ``activation_fn`` (sigmoid by default) and are multiplied by ``scale`` before the softmax.

    Inputs:
        | data                                        | labels | model outputs |
        |---------------------------------------------|--------|---------------|
        | (query, positive) pairs                     | none   | 1             |
        | (query, positive, negative_1, ..., neg_k)   | none   | 1             |

    Args:
        model: the CrossEncoder being trained.
        num_negatives: in-batch negatives drawn per query (``None``: every document of the other rows).
        scale: multiplies the activated scores (a softmax temperature of ``1 / scale``); 0 or None: none.
        activation_fn: applied to the logits before scaling; sigmoid by default, ``None`` for none.

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import MultipleNegativesRankingLoss
        >>> loss = MultipleNegativesRankingLoss(CrossEncoder("path/to/model"), num_negatives=4)  # doctest: +SKIP
    """

    input_format = "in_batch"
    needs_labels = False

    def __init__(
        self,
        model: CrossEncoder,
        num_negatives: int | None = 4,
        scale: float = 10.0,
        activation_fn: Activation | None = _SIGMOID,
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        if num_negatives is not None and num_negatives < 0:
            raise ValueError(f"num_negatives must be >= 0 or None (all); found {num_negatives}.")
        self.num_negatives = num_negatives
        self.scale = scale
        self.activation_fn = activation_fn

    def grid_spec(self) -> GridSpec:
        """An ``in_batch`` grid drawing ``num_negatives`` documents from the other rows."""
        return GridSpec("in_batch", self.num_negatives)

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        check_grid(type(self).__name__, scores, mask)
        logits = apply_activation(self.activation_fn, scores)
        if self.scale:
            logits = logits * self.scale
        log_probs = torch.log_softmax(logits.masked_fill(~mask, float("-inf")), dim=1)
        rows = mask[:, 0]
        if not bool(rows.any()):
            return scores.sum() * 0.0
        return -log_probs[rows, 0].mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "num_negatives": self.num_negatives,
            "activation_fn": activation_name(self.activation_fn),
        }


class CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss):
    """``MultipleNegativesRankingLoss`` with memory-bounded scoring of ``mini_batch_size`` pairs at a time.

    The maths is identical; the trainer's gradient-caching mechanism reads ``mini_batch_size`` (as it does
    for every loss that sets one) to score the grid in chunks (without gradients, then again with them), so
    large batches fit in memory. Here it is required (default 32) rather than optional.

    Inputs:
        | data                                        | labels | model outputs |
        |---------------------------------------------|--------|---------------|
        | (query, positive) pairs                     | none   | 1             |
        | (query, positive, negative_1, ..., neg_k)   | none   | 1             |

    Args:
        model: the CrossEncoder being trained.
        num_negatives: in-batch negatives drawn per query (``None``: every document of the other rows).
        scale: multiplies the activated scores; 0 or None: none.
        activation_fn: applied to the logits before scaling; sigmoid by default.
        mini_batch_size: pairs scored at once by the trainer.

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import CachedMultipleNegativesRankingLoss
        >>> model = CrossEncoder("path/to/model")  # doctest: +SKIP
        >>> loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=16)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: CrossEncoder,
        num_negatives: int | None = 4,
        scale: float = 10.0,
        activation_fn: Activation | None = _SIGMOID,
        mini_batch_size: int = 32,
    ) -> None:
        super().__init__(model, num_negatives=num_negatives, scale=scale, activation_fn=activation_fn)
        if mini_batch_size is None:
            raise ValueError("mini_batch_size must be a positive number of pairs; found None.")
        self.mini_batch_size = check_mini_batch_size(mini_batch_size)

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "mini_batch_size": self.mini_batch_size}
