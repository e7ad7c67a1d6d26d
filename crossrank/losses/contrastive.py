"""In-batch contrastive losses: each query's positive against negatives taken from the other rows.

The loss builds its own grid (``build_grid``): row i holds ``[positive_i, n sampled negatives, the
row's own hard negatives]``, where the sampled negatives are positives or hard negatives of OTHER rows
(never row i's own documents). The maths is then a softmax cross-entropy with the positive at slot 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from crossrank.data.grid import Grid
from crossrank.losses._utils import activation_name, apply_activation, check_grid, check_num_labels
from crossrank.losses.base import RerankLoss

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

Activation = Callable[[Tensor], Tensor]
_SIGMOID = nn.Sigmoid()


def sample_in_batch_negatives(
    batch_size: int, num_columns: int, num_negatives: int | None, generator: torch.Generator | None = None
) -> Tensor:
    """Indices (B, n) into the column-major flattened candidates (``column * B + row``) of other rows.

    With ``num_negatives`` None, or at least the number of candidates from other rows, every such
    candidate is used in order; otherwise ``num_negatives`` are drawn per row without replacement.
    """
    others = ~torch.eye(batch_size, dtype=torch.bool).repeat(1, num_columns)
    available = (batch_size - 1) * num_columns
    if num_negatives is not None and num_negatives < available:
        return torch.multinomial(others.float(), num_negatives, generator=generator)
    every = torch.arange(batch_size * num_columns).repeat(batch_size, 1)
    return every[others].reshape(batch_size, available)


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

    def build_grid(self, rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None) -> Grid:
        """Row i: ``[positive_i, sampled negatives from other rows, row i's hard negatives]``."""
        if len(input_columns) < 2:
            raise ValueError(
                f"{type(self).__name__} needs (query, positive[, negative_1, ...]) columns; found "
                f"{input_columns}. Add a positive document column."
            )
        queries = [str(r[input_columns[0]]) for r in rows]
        columns = [[r[c] for r in rows] for c in input_columns[1:]]
        flat = [doc for column in columns for doc in column]
        sampled = sample_in_batch_negatives(len(rows), len(columns), self.num_negatives).tolist()
        documents = [
            [columns[0][i]] + [flat[j] for j in sampled[i]] + [column[i] for column in columns[1:]]
            for i in range(len(rows))
        ]
        width = len(documents[0]) if documents else 0
        return Grid(queries, documents, torch.ones((len(rows), width), dtype=torch.bool), None)

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

    The maths is identical; the trainer's gradient-caching mechanism reads ``mini_batch_size`` to
    score the grid in chunks (without gradients, then again with them), so large batches fit in memory.

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
        show_progress_bar: show a progress bar over the chunks.

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import CachedMultipleNegativesRankingLoss
        >>> model = CrossEncoder("path/to/model")  # doctest: +SKIP
        >>> loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=16)  # doctest: +SKIP
    """

    uses_gradient_cache = True

    def __init__(
        self,
        model: CrossEncoder,
        num_negatives: int | None = 4,
        scale: float = 10.0,
        activation_fn: Activation | None = _SIGMOID,
        mini_batch_size: int = 32,
        show_progress_bar: bool = False,
    ) -> None:
        super().__init__(model, num_negatives=num_negatives, scale=scale, activation_fn=activation_fn)
        if mini_batch_size <= 0:
            raise ValueError(f"mini_batch_size must be a positive number of pairs; found {mini_batch_size}.")
        self.mini_batch_size = mini_batch_size
        self.show_progress_bar = show_progress_bar

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "mini_batch_size": self.mini_batch_size}
