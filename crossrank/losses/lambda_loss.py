"""LambdaLoss (and its weighting schemes): pairwise logistic losses weighted towards an NDCG objective.

For each query the documents are sorted by the model's scores; every pair (i, j) whose true labels
differ (i more relevant than j) contributes ``-w_ij * log sigmoid(sigma * (s_i - s_j))``, where the
weighting scheme ``w`` encodes how much swapping the pair would change NDCG. The loss is the mean over
all contributing pairs of the batch. Padding cells are sorted last and never form a pair, so neither
the pair count nor the ideal DCG sees them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from crossrank.losses._utils import (
    PAD_SCORE,
    activation_name,
    apply_activation,
    check_grid,
    check_mini_batch_size,
    check_num_labels,
    fullname,
    require_labels,
)
from crossrank.losses.base import RerankLoss

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder


class BaseWeightingScheme(nn.Module):
    """Maps (gain (B, G), discount (1, G), labels sorted by prediction (B, G)) to pair weights.

    ``gain[b, i]`` is ``(2^label - 1) / ideal DCG`` of the document ranked ``i``-th by the model and
    ``discount[0, i] = log2(i + 2)``. The result broadcasts to (B, G, G).
    """

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        raise NotImplementedError


class NoWeightingScheme(BaseWeightingScheme):
    """Every pair weighs 1: plain RankNet."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return torch.ones((), device=gain.device, dtype=gain.dtype)


class NDCGLoss1Scheme(BaseWeightingScheme):
    """Weight ``gain_i / discount_i`` (NDCG-Loss1 of the LambdaLoss paper); equal-label pairs count too."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return (gain / discount).unsqueeze(-1)


class NDCGLoss2Scheme(BaseWeightingScheme):
    """Weight ``|1/D(|i-j|) - 1/D(|i-j|+1)| * |gain_i - gain_j|`` (NDCG-Loss2 of the LambdaLoss paper)."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        size = gain.shape[1]
        positions = torch.arange(size, device=gain.device)
        distance = (positions[:, None] - positions[None, :]).abs()
        inverse = 1.0 / discount[0].abs()
        # discount[0, d] is the discount of rank d + 1, so |i - j| indexes D(|i-j|+1) and |i-j| - 1 D(|i-j|)
        delta = (inverse[(distance - 1).clamp_min(0)] - inverse[distance]).abs()
        delta = delta.masked_fill(distance == 0, 0.0)
        return delta.unsqueeze(0) * (gain[:, :, None] - gain[:, None, :]).abs()


class LambdaRankScheme(BaseWeightingScheme):
    """Weight ``|1/D_i - 1/D_j| * |gain_i - gain_j|``: the |delta NDCG| of swapping i and j (LambdaRank)."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        inverse = 1.0 / discount
        return (inverse[:, :, None] - inverse[:, None, :]).abs() * (gain[:, :, None] - gain[:, None, :]).abs()


class NDCGLoss2PPScheme(BaseWeightingScheme):
    """``mu * NDCGLoss2 + LambdaRank`` (NDCG-Loss2++ of the LambdaLoss paper); the default scheme."""

    def __init__(self, mu: float = 10.0) -> None:
        super().__init__()
        self.mu = mu
        self.ndcg_loss2 = NDCGLoss2Scheme()
        self.lambda_rank = LambdaRankScheme()

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return self.mu * self.ndcg_loss2(gain, discount, true_sorted) + self.lambda_rank(
            gain, discount, true_sorted
        )


_DEFAULT_SCHEME = NDCGLoss2PPScheme()
_IDENTITY = nn.Identity()


class LambdaLoss(RerankLoss):
    """LambdaLoss on lists of documents with graded labels, for lists of different lengths.

    Inputs:
        | data                         | labels                      | model outputs |
        |------------------------------|-----------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1, ..., label_n]     | 1             |

    Args:
        model: the CrossEncoder being trained.
        weighting_scheme: one of ``NoWeightingScheme`` (RankNet), ``NDCGLoss1Scheme``,
            ``NDCGLoss2Scheme``, ``LambdaRankScheme``, ``NDCGLoss2PPScheme`` (default); ``None`` means
            no weighting.
        k: only pairs with at least one document in the model's top ``k`` count (``None``: all).
        sigma: slope of the pairwise logistic.
        eps: floor of the ideal DCG (rows without any relevant document).
        reduction_log: ``"binary"`` (log2, the default) or ``"natural"`` logarithm.
        activation_fn: applied to the logits first; identity by default.
        mini_batch_size: score the grid in chunks of this many pairs (gradient caching, bounded
            memory; ``None``: the trainer's ``mini_batch_size``, else the whole batch at once).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import LambdaLoss, NDCGLoss2PPScheme
        >>> loss = LambdaLoss(CrossEncoder("path/to/model"), NDCGLoss2PPScheme(), k=10)  # doctest: +SKIP
    """

    input_format = "list"

    def __init__(
        self,
        model: CrossEncoder,
        weighting_scheme: BaseWeightingScheme | None = _DEFAULT_SCHEME,
        k: int | None = None,
        sigma: float = 1.0,
        eps: float = 1e-10,
        reduction_log: Literal["natural", "binary"] = "binary",
        activation_fn: Callable[[Tensor], Tensor] | None = _IDENTITY,
        mini_batch_size: int | None = None,
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        if reduction_log not in ("natural", "binary"):
            raise ValueError(f"reduction_log must be 'natural' or 'binary'; found {reduction_log!r}.")
        self.weighting_scheme = weighting_scheme or NoWeightingScheme()
        self.k = k
        self.sigma = sigma
        self.eps = eps
        self.reduction_log = reduction_log
        self.activation_fn = activation_fn or _IDENTITY
        self.mini_batch_size = check_mini_batch_size(mini_batch_size)

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        name = type(self).__name__
        labels = require_labels(name, labels, "a list with one relevance label per document")
        check_grid(name, scores, mask, labels)
        size = scores.shape[1]
        logits = apply_activation(self.activation_fn, scores).masked_fill(~mask, PAD_SCORE)
        truth = labels.masked_fill(~mask, float("-inf"))
        logits_sorted, order = logits.sort(descending=True, dim=-1)
        ideal_sorted = truth.sort(descending=True, dim=-1).values.clamp(min=0.0)
        true_by_pred = truth.gather(1, order)
        true_diffs = true_by_pred[:, :, None] - true_by_pred[:, None, :]
        pairs = torch.isfinite(true_diffs)
        if not isinstance(self.weighting_scheme, NDCGLoss1Scheme):
            pairs &= true_diffs > 0
        k = self.k or size
        top = torch.arange(size, device=scores.device) < k
        pairs &= top[:, None] | top[None, :]
        true_by_pred = true_by_pred.clamp(min=0.0)
        discount = torch.log2(torch.arange(2, size + 2, device=scores.device, dtype=scores.dtype))[None, :]
        ideal_dcg = ((2.0**ideal_sorted - 1.0) / discount)[:, :k].sum(dim=-1).clamp(min=self.eps)
        gain = (2.0**true_by_pred - 1.0) / ideal_dcg[:, None]
        weights = self.weighting_scheme(gain, discount, true_by_pred)
        diffs = (logits_sorted[:, :, None] - logits_sorted[:, None, :]).clamp(min=-1e8, max=1e8)
        diffs = diffs.masked_fill(torch.isnan(diffs), 0.0)
        losses = weights * F.logsigmoid(self.sigma * diffs)
        if self.reduction_log == "binary":
            losses = losses / math.log(2)
        selected = losses[pairs]
        return -selected.sum() / max(selected.numel(), 1)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "weighting_scheme": fullname(self.weighting_scheme),
            "k": self.k,
            "sigma": self.sigma,
            "eps": self.eps,
            "reduction_log": self.reduction_log,
            "activation_fn": activation_name(self.activation_fn),
            "mini_batch_size": self.mini_batch_size,
        }
