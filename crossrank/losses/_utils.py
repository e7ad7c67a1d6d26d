"""Masking, padding and validation helpers shared by every loss (the one place they live).

Padding cells of a (B, G) grid hold arbitrary finite values; the helpers here make sure they never
reach a sum, a mean, a softmax or a normaliser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

PAD_SCORE = -1e16
"""Score given to padding cells before a sort, so that they always come after every real document."""


def check_torch_kwargs(loss: object, fn: Callable[..., Any], kwargs: dict[str, Any],
                       own: tuple[str, ...] = ()) -> dict[str, Any]:
    """``kwargs`` that a loss forwards to the torch function ``fn``: unknown names fail at construction (a
    ``TypeError`` naming them), not at the first training step."""
    import inspect

    accepted = [p for p in inspect.signature(fn).parameters if p not in ("input", "target") and p not in own]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"{type(loss).__name__} got unknown argument(s) {unknown}; it passes on only the keyword arguments of "
            f"torch.nn.functional.{fn.__name__}: {', '.join(accepted)}."
        )
    return dict(kwargs)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over the cells where ``mask`` is True (0 when there are none)."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def fill_masked(scores: Tensor, mask: Tensor, value: float) -> Tensor:
    """``scores`` with padding cells replaced by ``value`` (e.g. ``-inf`` before a softmax)."""
    return scores.masked_fill(~mask, value)


def masked_log_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Row-wise log-softmax over the valid cells; padding cells come out as 0 (not ``-inf``).

    Rows without any valid cell give 0 everywhere instead of NaN.
    """
    filled = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.log_softmax(filled, dim=-1).masked_fill(~mask, 0.0)


def apply_activation(activation_fn: Callable[[Tensor], Tensor] | None, scores: Tensor) -> Tensor:
    """``activation_fn(scores)``, or ``scores`` unchanged when there is no activation."""
    return scores if activation_fn is None else activation_fn(scores)


def fullname(obj: Any) -> str:
    """``module.ClassName`` of an object's class (``torch.nn.modules.linear.Identity`` for ``nn.Identity()``)."""
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


def activation_name(activation_fn: Callable[[Tensor], Tensor] | None) -> str | None:
    """The name that ``get_config_dict`` reports for an activation function (``None`` for none)."""
    return None if activation_fn is None else fullname(activation_fn)


def check_num_labels(loss: nn.Module, required: int | None) -> None:
    """Raise when the model's number of output labels does not fit what ``loss`` needs.

    ``required`` is 1 for score losses and ``None`` for classification losses (at least 2 outputs).
    Models without a ``num_labels`` attribute (e.g. ``None`` in pure tensor use) are not checked.
    """
    found = getattr(getattr(loss, "model", None), "num_labels", None)
    if found is None:
        return
    name = type(loss).__name__
    if required is not None and found != required:
        raise ValueError(
            f"{name} needs a model with {required} output label(s), but the model has {found}. "
            f"Load the model with num_labels={required}, or pick a loss made for {found} labels "
            "(CrossEntropyLoss for class labels)."
        )
    if required is None and found < 2:
        raise ValueError(
            f"{name} needs a model with one output per class (num_labels >= 2), but the model has "
            f"{found}. Load the model with num_labels set to the number of classes, or use "
            "BinaryCrossEntropyLoss for a single score."
        )


def check_mini_batch_size(value: int | None) -> int | None:
    """``value`` when it is None or a positive number of pairs (the trainer's chunk size for this loss)."""
    if value is not None and (isinstance(value, bool) or int(value) != value or value <= 0):
        raise ValueError(f"mini_batch_size must be a positive number of pairs; found {value}.")
    return value


def check_grid(name: str, scores: Tensor, mask: Tensor, labels: Tensor | None = None) -> None:
    """Raise a clear error when ``scores``, ``mask`` and (2-D) ``labels`` do not share the (B, G) shape."""
    if scores.dim() != 2:
        raise ValueError(
            f"{name} expects scores of shape (batch, documents); found shape {tuple(scores.shape)}. "
            "Use a model with num_labels=1 (one score per pair)."
        )
    if mask.shape != scores.shape:
        raise ValueError(
            f"{name}: mask shape {tuple(mask.shape)} differs from scores shape {tuple(scores.shape)}; "
            "the collator must give one mask cell per score."
        )
    if labels is not None and labels.shape != scores.shape:
        raise ValueError(
            f"{name}: labels shape {tuple(labels.shape)} differs from scores shape {tuple(scores.shape)}; "
            "each document needs exactly one label."
        )


def require_labels(name: str, labels: Tensor | None, what: str) -> Tensor:
    """``labels`` itself, or a ValueError naming the loss and the labels it needs."""
    if labels is None:
        raise ValueError(f"{name} needs a label column ({what}); the batch has none. Add a 'label' column.")
    return labels


def compact_valid_first(mask: Tensor, keys: Tensor | None = None) -> Tensor:
    """Per-row permutation putting valid cells first (by ``keys`` descending when given, else in order).

    The sort is stable, so equal keys (and valid cells when ``keys`` is None) keep their input order.
    """
    keys = mask.to(torch.float32) if keys is None else keys.masked_fill(~mask, float("-inf"))
    return torch.sort(keys, dim=-1, descending=True, stable=True).indices
