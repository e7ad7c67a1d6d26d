"""Pointwise losses: each (query, document) cell is scored against its own label."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
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

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

_IDENTITY = nn.Identity()

Activation = Callable[[Tensor], Tensor]


class BinaryCrossEntropyLoss(RerankLoss):
    """Binary cross-entropy on the logit of each pair; the default loss for one-label rerankers.

    Inputs:
        | data                               | labels                  | model outputs |
        |------------------------------------|-------------------------|---------------|
        | (query, document) pairs            | 0/1 or a float in [0,1] | 1             |

    Args:
        model: the CrossEncoder being trained.
        activation_fn: applied to the logits before the (logit-space) loss; identity by default.
        pos_weight: weight of positive examples (``> 1`` when positives are rare), as in
            ``torch.nn.BCEWithLogitsLoss``.
        **kwargs: passed on to ``torch.nn.functional.binary_cross_entropy_with_logits``
            (e.g. ``reduction="sum"``).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import BinaryCrossEntropyLoss
        >>> loss = BinaryCrossEntropyLoss(CrossEncoder("path/to/model"), pos_weight=3.0)  # doctest: +SKIP
    """

    input_format = "pair"
    label_range = (0.0, 1.0)

    def __init__(
        self,
        model: CrossEncoder,
        activation_fn: Activation | None = _IDENTITY,
        pos_weight: float | Tensor | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        if pos_weight is not None and not isinstance(pos_weight, Tensor):
            pos_weight = torch.tensor(float(pos_weight))
        self.activation_fn = activation_fn
        self.pos_weight = pos_weight
        self.kwargs = check_torch_kwargs(self, F.binary_cross_entropy_with_logits, kwargs, own=("pos_weight",))

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        labels = require_labels(type(self).__name__, labels, "0/1 or a float in [0, 1]")
        pos_weight = None if self.pos_weight is None else self.pos_weight.to(scores.device, scores.dtype)
        logits = apply_activation(self.activation_fn, scores[mask])
        return F.binary_cross_entropy_with_logits(logits, labels[mask], pos_weight=pos_weight, **self.kwargs)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "activation_fn": activation_name(self.activation_fn),
            "pos_weight": None if self.pos_weight is None else float(self.pos_weight),
        }


class CrossEntropyLoss(RerankLoss):
    """Softmax cross-entropy over the model's class outputs; for classifiers (e.g. NLI, duplicates).

    The model has one output per class (``num_labels >= 2``), so ``scores`` is (B, 1, C) and each label
    is a class id in ``0 .. C-1``.

    Inputs:
        | data                     | labels                  | model outputs    |
        |--------------------------|-------------------------|------------------|
        | (text_a, text_b) pairs   | class id (0 .. C-1)     | C (number of classes, >= 2) |

    Args:
        model: the CrossEncoder being trained (``num_labels`` = number of classes).
        activation_fn: applied to the (B, C) logits before the softmax; identity by default.
        **kwargs: passed on to ``torch.nn.functional.cross_entropy`` (``weight``, ``label_smoothing``,
            ``ignore_index``, ``reduction``).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import CrossEntropyLoss
        >>> loss = CrossEntropyLoss(CrossEncoder("path/to/model", num_labels=3))  # doctest: +SKIP
    """

    input_format = "pair"
    num_labels = None

    def __init__(self, model: CrossEncoder, activation_fn: Activation | None = _IDENTITY, **kwargs: Any) -> None:
        super().__init__(model)
        check_num_labels(self, None)
        self.activation_fn = activation_fn
        self.kwargs = check_torch_kwargs(self, F.cross_entropy, kwargs)

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        name = type(self).__name__
        labels = require_labels(name, labels, "a class id per pair")
        if scores.dim() != 3 or scores.shape[-1] < 2:
            raise ValueError(
                f"{name} expects scores of shape (batch, 1, num_classes) with num_classes >= 2; found "
                f"{tuple(scores.shape)}. Load the model with num_labels set to the number of classes."
            )
        logits = apply_activation(self.activation_fn, scores[mask])
        targets = labels[mask]
        num_classes = logits.shape[-1]
        if targets.numel() and (
            not torch.equal(targets, targets.round()) or targets.min() < 0 or targets.max() >= num_classes
        ):
            raise ValueError(
                f"{name} expects integer class ids in 0..{num_classes - 1}; found labels "
                f"{targets[:5].tolist()}. Map each class to an id below num_labels={num_classes}."
            )
        return F.cross_entropy(logits, targets.long(), **self.kwargs)

    def get_config_dict(self) -> dict[str, Any]:
        return {"activation_fn": activation_name(self.activation_fn)}


class MSELoss(RerankLoss):
    """Mean squared error between each pair's score and a target score (distillation from a teacher).

    Mind the scale of both sides: for a teacher whose scores went through a sigmoid, pass
    ``activation_fn=torch.nn.Sigmoid()`` so the student is compared in the same range.

    Inputs:
        | data                     | labels                          | model outputs |
        |--------------------------|---------------------------------|---------------|
        | (query, document) pairs  | target score (teacher or gold)  | 1             |

    Args:
        model: the CrossEncoder being trained.
        activation_fn: applied to the logits before comparing; identity by default.
        **kwargs: passed on to ``torch.nn.functional.mse_loss`` (e.g. ``reduction="sum"``).

    Example:
        >>> from crossrank import CrossEncoder
        >>> from crossrank.losses import MSELoss
        >>> loss = MSELoss(CrossEncoder("path/to/model"))  # doctest: +SKIP
    """

    input_format = "pair"

    def __init__(self, model: CrossEncoder, activation_fn: Activation | None = _IDENTITY, **kwargs: Any) -> None:
        super().__init__(model)
        check_num_labels(self, 1)
        self.activation_fn = activation_fn
        self.kwargs = check_torch_kwargs(self, F.mse_loss, kwargs)

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        labels = require_labels(type(self).__name__, labels, "a target score per pair")
        predictions = apply_activation(self.activation_fn, scores[mask])
        return F.mse_loss(predictions, labels[mask], **self.kwargs)

    def get_config_dict(self) -> dict[str, Any]:
        return {"activation_fn": activation_name(self.activation_fn)}
