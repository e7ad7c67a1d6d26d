"""Pairwise losses: MarginMSE distillation on (query, positive, negatives) tuples, and RankNet on lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from torch import Tensor, nn
from torch.nn import functional as F

from crossrank.losses._utils import (
    activation_name,
    apply_activation,
    check_num_labels,
    check_torch_kwargs,
    require_labels,
)
from crossrank.losses.base import RerankLoss
from crossrank.losses.lambda_loss import LambdaLoss, NoWeightingScheme

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

_IDENTITY = nn.Identity()


class MarginMSELoss(RerankLoss):
    """MSE between the student's margins ``s(q, pos) - s(q, neg_i)`` and the teacher's margins.

    Labels are either the k margins ``teacher(q, pos) - teacher(q, neg_i)`` or the k + 1 raw teacher
    scores ``[teacher(q, pos), teacher(q, neg_1), ...]`` (turned into margins); a triplet may carry a
    single number. The activation is applied to each score before taking margins.

    Inputs:
        | data                                   | labels                                  | model outputs |
        |----------------------------------------|-----------------------------------------|---------------|
        | (query, positive, negative) triplets   | margin, or [score_pos, score_neg]       | 1             |
        | (query, positive, neg_1, ..., neg_k)   | k margins, or k + 1 teacher scores      | 1             |

    Args:
        model: the CrossEncoder being trained (the student).
        activation_fn: applied to the logits before taking margins; identity by default.
        **kwargs: passed on to ``torch.nn.functional.mse_loss`` (e.g. ``reduction="sum"``).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import MarginMSELoss
        >>> loss = MarginMSELoss(CrossEncoder("path/to/student"))  # doctest: +SKIP
    """

    input_format = "tuple"

    def __init__(
        self, model: CrossEncoder, activation_fn: Callable[[Tensor], Tensor] | None = _IDENTITY, **kwargs: Any
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        self.activation_fn = activation_fn
        self.kwargs = check_torch_kwargs(self, F.mse_loss, kwargs)

    def target_margins(self, labels: Tensor, num_documents: int) -> Tensor:
        """Teacher margins (B, k) from labels given as k margins or as k + 1 raw scores."""
        num_negatives = num_documents - 1
        if labels.dim() == 1:
            labels = labels.unsqueeze(1)
        if labels.dim() == 2 and labels.shape[1] == num_negatives + 1:
            return labels[:, :1] - labels[:, 1:]
        if labels.dim() == 2 and labels.shape[1] == num_negatives:
            return labels
        raise ValueError(
            f"{type(self).__name__}: with {num_negatives} negative(s) per row the labels must hold "
            f"{num_negatives} margin(s) (teacher positive minus teacher negative) or {num_negatives + 1} "
            f"raw teacher scores (positive first); found labels of shape {tuple(labels.shape)}."
        )

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        name = type(self).__name__
        labels = require_labels(name, labels, "teacher margins or teacher scores")
        if scores.dim() != 2 or scores.shape[1] < 2:
            raise ValueError(
                f"{name} expects (query, positive, negative_1, ...) rows, i.e. scores of shape (batch, >= 2); "
                f"found {tuple(scores.shape)}. Add at least one negative column."
            )
        targets = self.target_margins(labels, scores.shape[1])
        logits = apply_activation(self.activation_fn, scores)
        margins = logits[:, :1] - logits[:, 1:]
        valid = mask[:, :1] & mask[:, 1:]
        return F.mse_loss(margins[valid], targets[valid], **self.kwargs)

    def get_config_dict(self) -> dict[str, Any]:
        return {"activation_fn": activation_name(self.activation_fn)}


class RankNetLoss(LambdaLoss):
    """RankNet: a pairwise logistic loss over every pair of documents with different labels.

    The same as ``LambdaLoss`` with ``NoWeightingScheme``: each pair (i, j) with label_i > label_j adds
    ``-log sigmoid(sigma * (s_i - s_j))``; the loss is the mean over those pairs.

    Inputs:
        | data                         | labels                          | model outputs |
        |------------------------------|---------------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1, ..., label_n] (binary or graded) | 1  |

    Args:
        model: the CrossEncoder being trained.
        k: only pairs with at least one document in the model's top ``k`` count (``None``: all).
        sigma: slope of the pairwise logistic.
        eps: floor of the ideal DCG.
        reduction_log: ``"binary"`` (log2, the default) or ``"natural"`` logarithm.
        activation_fn: applied to the logits first; identity by default.
        mini_batch_size: score the grid in chunks of this many pairs (gradient caching, bounded
            memory; ``None``: the trainer's ``mini_batch_size``, else the whole batch at once).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import RankNetLoss
        >>> loss = RankNetLoss(CrossEncoder("path/to/model"))  # doctest: +SKIP
    """

    def __init__(
        self,
        model: CrossEncoder,
        k: int | None = None,
        sigma: float = 1.0,
        eps: float = 1e-10,
        reduction_log: Literal["natural", "binary"] = "binary",
        activation_fn: Callable[[Tensor], Tensor] | None = _IDENTITY,
        mini_batch_size: int | None = None,
    ) -> None:
        super().__init__(
            model,
            weighting_scheme=NoWeightingScheme(),
            k=k,
            sigma=sigma,
            eps=eps,
            reduction_log=reduction_log,
            activation_fn=activation_fn,
            mini_batch_size=mini_batch_size,
        )

    def get_config_dict(self) -> dict[str, Any]:
        config = super().get_config_dict()
        del config["weighting_scheme"]
        return config
