"""Listwise losses on (query, [documents], [labels]) rows with lists of different lengths.

``LambdaLoss`` and its weighting schemes live in ``lambda_loss``; they are re-exported here.
Every loss below works on the padded (B, G) grid and keeps padding cells out of every softmax,
normaliser and mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from crossrank.losses._utils import (
    activation_name,
    apply_activation,
    check_grid,
    check_mini_batch_size,
    check_num_labels,
    compact_valid_first,
    fullname,
    masked_log_softmax,
    require_labels,
)
from crossrank.losses.base import RerankLoss
from crossrank.losses.lambda_loss import (
    BaseWeightingScheme,
    LambdaLoss,
    LambdaRankScheme,
    NDCGLoss1Scheme,
    NDCGLoss2PPScheme,
    NDCGLoss2Scheme,
    NoWeightingScheme,
)

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

Activation = Callable[[Tensor], Tensor]
_IDENTITY = nn.Identity()
_LABELS = "a list with one relevance label per document"


def _rows_mean(per_row: Tensor, mask: Tensor) -> Tensor:
    """Mean of per-row losses over the rows that hold at least one document."""
    rows = mask.any(dim=1)
    if not bool(rows.any()):
        return per_row.sum() * 0.0
    return per_row[rows].mean()


class ListNetLoss(RerankLoss):
    """ListNet: cross-entropy between the softmax of the labels and the softmax of the scores, per list.

    Both softmaxes run over a row's real documents only; the loss is the mean over rows.

    Inputs:
        | data                         | labels                      | model outputs |
        |------------------------------|-----------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1, ..., label_n]     | 1             |

    Args:
        model: the CrossEncoder being trained.
        activation_fn: applied to the logits first; identity by default.
        mini_batch_size: score the grid in chunks of this many pairs (gradient caching, bounded
            memory; ``None``: the trainer's ``mini_batch_size``, else the whole batch at once).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import ListNetLoss
        >>> loss = ListNetLoss(CrossEncoder("path/to/model"))  # doctest: +SKIP
    """

    input_format = "list"

    def __init__(
        self, model: CrossEncoder, activation_fn: Activation | None = _IDENTITY, mini_batch_size: int | None = None
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        self.activation_fn = activation_fn or _IDENTITY
        self.mini_batch_size = check_mini_batch_size(mini_batch_size)

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        name = type(self).__name__
        labels = require_labels(name, labels, _LABELS)
        check_grid(name, scores, mask, labels)
        log_predicted = masked_log_softmax(apply_activation(self.activation_fn, scores), mask)
        target = masked_log_softmax(labels, mask).exp() * mask
        return _rows_mean(-(target * log_predicted).sum(dim=1), mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {"activation_fn": activation_name(self.activation_fn), "mini_batch_size": self.mini_batch_size}


class PListMLELambdaWeight(nn.Module):
    """Position weights for ``PListMLELoss``: by default ``2^(n - rank) - 1`` for a list of n documents.

    For lists longer than 127 documents the weights are scaled by ``2^-(n - 127)`` so they stay finite.

    Args:
        rank_discount_fn: optional replacement, called with the (B, G) bool mask of the sorted lists
            (real documents first) and returning (B, G) weights.
    """

    def __init__(self, rank_discount_fn: Callable[[Tensor], Tensor] | None = None) -> None:
        super().__init__()
        self.rank_discount_fn = rank_discount_fn

    def forward(self, mask: Tensor) -> Tensor:
        if self.rank_discount_fn is not None:
            return self.rank_discount_fn(mask)
        counts = mask.sum(dim=1, keepdim=True).float()
        ranks = torch.arange(1, mask.shape[1] + 1, device=mask.device, dtype=torch.float32).expand(mask.shape)
        scale = (counts - 127.0).clamp_min(0.0)
        weights = torch.pow(2.0, counts - ranks - scale) - torch.pow(2.0, -scale)
        return weights * mask


_DEFAULT_LAMBDA = PListMLELambdaWeight()


class PListMLELoss(RerankLoss):
    """Position-aware ListMLE: the negative log-likelihood of the true order under a Plackett-Luce model.

    The true order is the input order (``respect_input_order=True``, the default: put the best document
    first) or the order of the labels (``False``). Each position's log-probability is weighted by the
    ``lambda_weight`` (normalised per list) so that the top positions count most; without weights this
    is ListMLE. The loss is the mean over lists.

    Unlike the reference implementation, lists without any document (all padding) are left out of the
    mean instead of counting as a zero loss, and ties in the labels keep their input order (stable sort).

    Inputs:
        | data                         | labels                      | model outputs |
        |------------------------------|-----------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1, ..., label_n]     | 1             |

    Args:
        model: the CrossEncoder being trained.
        lambda_weight: position weights (``PListMLELambdaWeight()`` by default; ``None``: ListMLE).
        activation_fn: applied to the logits first; identity by default.
        mini_batch_size: score the grid in chunks of this many pairs (gradient caching, bounded
            memory; ``None``: the trainer's ``mini_batch_size``, else the whole batch at once).
        respect_input_order: take the documents' input order as the true ranking, or sort by label.

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import PListMLELoss
        >>> loss = PListMLELoss(CrossEncoder("path/to/model"), respect_input_order=False)  # doctest: +SKIP
    """

    input_format = "list"

    def __init__(
        self,
        model: CrossEncoder,
        lambda_weight: PListMLELambdaWeight | None = _DEFAULT_LAMBDA,
        activation_fn: Activation | None = _IDENTITY,
        mini_batch_size: int | None = None,
        respect_input_order: bool = True,
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        self.lambda_weight = lambda_weight
        self.activation_fn = activation_fn or _IDENTITY
        self.mini_batch_size = check_mini_batch_size(mini_batch_size)
        self.respect_input_order = respect_input_order
        self.eps = 1e-10

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        name = type(self).__name__
        if not self.respect_input_order:
            labels = require_labels(name, labels, _LABELS)
        check_grid(name, scores, mask, labels)
        order = compact_valid_first(mask, None if self.respect_input_order else labels)
        logits = apply_activation(self.activation_fn, scores).gather(1, order)
        valid = mask.gather(1, order)
        filled = logits.masked_fill(~valid, torch.finfo(logits.dtype).min)
        log_normalizers = filled.flip(1).logcumsumexp(dim=1).flip(1)
        log_probs = logits - log_normalizers
        if self.lambda_weight is not None:
            weights = self.lambda_weight(valid).to(log_probs.dtype)
            log_probs = log_probs * (weights / (weights.sum(dim=1, keepdim=True) + self.eps))
        log_probs = log_probs.masked_fill(~valid, 0.0)
        return _rows_mean(-log_probs.sum(dim=1), mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "lambda_weight": None if self.lambda_weight is None else fullname(self.lambda_weight),
            "activation_fn": activation_name(self.activation_fn),
            "mini_batch_size": self.mini_batch_size,
            "respect_input_order": self.respect_input_order,
        }


class ListMLELoss(PListMLELoss):
    """ListMLE: ``PListMLELoss`` without position weights (every position of the true order counts alike).

    Inputs:
        | data                         | labels                      | model outputs |
        |------------------------------|-----------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1, ..., label_n]     | 1             |

    Args:
        model: the CrossEncoder being trained.
        activation_fn: applied to the logits first; identity by default.
        mini_batch_size: score the grid in chunks of this many pairs (gradient caching, bounded
            memory; ``None``: the trainer's ``mini_batch_size``, else the whole batch at once).
        respect_input_order: take the documents' input order as the true ranking, or sort by label.

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import ListMLELoss
        >>> loss = ListMLELoss(CrossEncoder("path/to/model"))  # doctest: +SKIP
    """

    def __init__(
        self,
        model: CrossEncoder,
        activation_fn: Activation | None = _IDENTITY,
        mini_batch_size: int | None = None,
        respect_input_order: bool = True,
    ) -> None:
        super().__init__(
            model,
            lambda_weight=None,
            activation_fn=activation_fn,
            mini_batch_size=mini_batch_size,
            respect_input_order=respect_input_order,
        )

    def get_config_dict(self) -> dict[str, Any]:
        config = super().get_config_dict()
        del config["lambda_weight"]
        return config


class ADRMSELoss(RerankLoss):
    """Approx-Discounted-Rank MSE: squared error between each document's true rank and a smooth rank.

    The approximate rank of document i is ``1 + sum_{j != i} sigmoid(alpha * (s_j - s_i))`` over the
    row's real documents; true ranks average over ties. Each error is discounted by
    ``1 / log2(1 + true rank)``; the loss is the mean over all real documents of the batch.

    Inputs:
        | data                         | labels                      | model outputs |
        |------------------------------|-----------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1, ..., label_n]     | 1             |

    Args:
        model: the CrossEncoder being trained.
        alpha: sharpness of the sigmoid that approximates ranks.
        activation_fn: applied to the logits first; identity by default.
        mini_batch_size: score the grid in chunks of this many pairs (gradient caching, bounded
            memory; ``None``: the trainer's ``mini_batch_size``, else the whole batch at once).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import ADRMSELoss
        >>> loss = ADRMSELoss(CrossEncoder("path/to/model"), alpha=1.0)  # doctest: +SKIP
    """

    input_format = "list"

    def __init__(
        self,
        model: CrossEncoder,
        alpha: float = 1.0,
        activation_fn: Activation | None = _IDENTITY,
        mini_batch_size: int | None = None,
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        self.alpha = alpha
        self.activation_fn = activation_fn or _IDENTITY
        self.mini_batch_size = check_mini_batch_size(mini_batch_size)

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        name = type(self).__name__
        labels = require_labels(name, labels, _LABELS)
        check_grid(name, scores, mask, labels)
        logits = apply_activation(self.activation_fn, scores).masked_fill(~mask, 0.0)
        valid = mask.to(logits.dtype)
        other = mask.unsqueeze(1)  # [b, i, j]: is document j real
        label_i, label_j = labels.unsqueeze(2), labels.unsqueeze(1)
        greater = ((label_j > label_i) & other).sum(dim=-1).to(logits.dtype)
        equal = ((label_j == label_i) & other).sum(dim=-1).to(logits.dtype)
        true_ranks = greater + (equal + 1.0) / 2.0
        beaten = torch.sigmoid(self.alpha * (logits.unsqueeze(1) - logits.unsqueeze(2))) * other
        approx_ranks = 1.0 + beaten.sum(dim=2) - 0.5 * valid
        errors = (true_ranks - approx_ranks) ** 2 / torch.log2(true_ranks + 1.0)
        return (errors * valid).sum() / valid.sum().clamp_min(1.0)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "activation_fn": activation_name(self.activation_fn),
            "mini_batch_size": self.mini_batch_size,
        }


__all__ = [
    "ADRMSELoss",
    "BaseWeightingScheme",
    "LambdaLoss",
    "LambdaRankScheme",
    "ListMLELoss",
    "ListNetLoss",
    "NDCGLoss1Scheme",
    "NDCGLoss2PPScheme",
    "NDCGLoss2Scheme",
    "NoWeightingScheme",
    "PListMLELambdaWeight",
    "PListMLELoss",
]
