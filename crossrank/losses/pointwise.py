"""Pointwise losses: each (query, document) cell is scored against its own label."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor
from torch.nn import functional as F

from crossrank.losses.base import RerankLoss

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder


class BinaryCrossEntropyLoss(RerankLoss):
    """Binary cross-entropy on the logit of each pair; the default loss for one-label rerankers.

    Inputs:
        | data                               | labels                  | model outputs |
        |------------------------------------|-------------------------|---------------|
        | (query, document) pairs            | 0/1 or a float in [0,1] | 1             |

    Args:
        model: the CrossEncoder being trained.
        pos_weight: weight of positive examples (``> 1`` when positives are rare), as in
            ``torch.nn.BCEWithLogitsLoss``.

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import BinaryCrossEntropyLoss
        >>> loss = BinaryCrossEntropyLoss(CrossEncoder("path/to/model"), pos_weight=3.0)  # doctest: +SKIP
    """

    input_format = "pair"

    def __init__(self, model: CrossEncoder, pos_weight: float | Tensor | None = None) -> None:
        super().__init__(model)
        if pos_weight is not None and not isinstance(pos_weight, Tensor):
            pos_weight = torch.tensor(float(pos_weight))
        self.pos_weight = pos_weight

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        if labels is None:
            raise ValueError("BinaryCrossEntropyLoss needs a label column (0/1 or a float in [0, 1]).")
        pos_weight = None if self.pos_weight is None else self.pos_weight.to(scores.device, scores.dtype)
        return F.binary_cross_entropy_with_logits(scores[mask], labels[mask], pos_weight=pos_weight)

    def get_config_dict(self) -> dict[str, Any]:
        return {"pos_weight": None if self.pos_weight is None else float(self.pos_weight)}
