"""Start the fresh head from a least-squares fit to the teacher, instead of from noise.

A cross-encoder made from a bi-encoder checkpoint gets a random output layer on a token (``[CLS]``) that
the bi-encoder never trained as a summary (it pooled by mean). Its logits then barely differ between the
documents of a list, the gradients that reach the encoder through the small random head are tiny, and a
listwise loss sits at ln(list size) for many steps. Fitting the output layer first — ridge regression
of the teacher's per-list targets on the features that layer reads, with each list's mean removed so
only the within-list order counts — gives the head a useful direction and scale before any step.

The output layer is found generically: the last ``nn.Linear`` with one output feature (``classifier``
in BERT, ``classifier.out_proj`` in RoBERTa/ELECTRA, ...); its input is captured with a forward hook.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def output_layer(model: nn.Module) -> nn.Linear:
    """The last ``nn.Linear`` of ``model`` with a single output: the layer that produces the score."""
    found = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == 1]
    if not found:
        raise ValueError(f"{type(model).__name__} has no linear layer with one output; the head fit needs a "
                         "one-label sequence-classification model.")
    return found[-1]


def _features(model: Any, dataset: Any, max_length: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs of the output layer for every (query, document) of the lists, and the list id of each."""
    from crossrank.data.columns import resolve_columns

    roles = resolve_columns(list(dataset.column_names))
    q_col, d_col = roles.inputs[:2]
    layer, captured = output_layer(model.model), []
    hook = layer.register_forward_hook(lambda _m, inputs, _o: captured.append(inputs[0].detach().float().cpu()))
    pairs, groups = [], []
    for row, (query, docs) in enumerate(zip(dataset[q_col], dataset[d_col])):
        pairs += [(query, d) for d in docs]
        groups += [row] * len(docs)
    saved, was_training = model.max_length, model.model.training
    model.max_length = min(max_length, saved)
    model.model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(pairs), batch_size):
                features = model.tokenize(pairs[start : start + batch_size])
                model.model(**{k: v.to(model.device) for k, v in features.items()})
    finally:
        hook.remove()
        model.max_length = saved
        model.model.train(was_training)
    return torch.cat(captured).numpy().astype(np.float64), np.asarray(groups)


def _centered(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = values.copy()
    for group in np.unique(groups):
        rows = groups == group
        out[rows] -= values[rows].mean(axis=0)
    return out


def dropout_ridge(model: Any) -> float:
    """``p / (1 - p)`` for the head's dropout rate ``p``: the ridge penalty that training-time dropout implies."""
    config = model.config
    rate = getattr(config, "classifier_dropout", None)
    rate = getattr(config, "hidden_dropout_prob", 0.1) if rate is None else rate
    rate = min(max(float(rate), 0.01), 0.9)
    return rate / (1.0 - rate)


RIDGE_GRID = (1.0, 4.0, 16.0, 64.0, 256.0)
"""Multiples of the dropout-equivalent penalty tried by the two-fold check."""


def _solve(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    return np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ y)


def _r2(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    residual = y - x @ weight
    return 1.0 - float(residual @ residual) / max(float(y @ y), 1e-12)


def choose_penalty(x: np.ndarray, y: np.ndarray, groups: np.ndarray, base: float) -> tuple[float, float]:
    """The penalty (``base`` times a :data:`RIDGE_GRID` value) with the best two-fold held-out R², and that R².

    The folds split whole lists (even and odd list ids), so the check measures the order of unseen lists.
    """
    fold = (groups % 2).astype(bool)
    best = (base * RIDGE_GRID[-1], float("-inf"))
    for factor in RIDGE_GRID:
        penalty = base * factor
        scores = [_r2(x[test], y[test], _solve(x[~test], y[~test], penalty * (~test).mean()))
                  for test in (fold, ~fold) if test.any() and (~test).any()]
        r2 = float(np.mean(scores)) if scores else float("-inf")
        if r2 > best[1]:
            best = (penalty, r2)
    return best


def fit_head(model: Any, dataset: Any, max_length: int, batch_size: int = 32) -> dict[str, float]:
    """Set the output layer of ``model`` to a ridge fit of the lists' labels when it predicts unseen lists.

    Features are centred within each list and scaled by their root mean square (dropout of rate p on a
    feature adds noise of variance ``p / (1 - p) * x**2`` while training, so on scaled features the
    dropout-equivalent penalty is the same for all). The penalty is chosen by a two-fold check over whole
    lists, from the dropout-equivalent one upwards; when no penalty gives a positive held-out R², the head
    is left as it was.

    Args:
        model: The :class:`crossrank.CrossEncoder` (one output label).
        dataset: (query, [documents], [labels]) lists; the labels are the targets (teacher z-scores).
        max_length: Token limit of the pairs.
        batch_size: Pairs per forward pass.

    Returns:
        ``{"pairs", "heldout_r2", "r2", "applied"}``: pairs used, the two-fold held-out R² of the chosen penalty,
        the in-sample R² of the final fit, and 1.0 when the head was set (0.0 when left alone).
    """
    features, groups = _features(model, dataset, max_length, batch_size)
    label = [c for c in dataset.column_names if c in ("label", "labels", "score", "scores")][0]
    targets = np.concatenate([np.asarray(v, dtype=np.float64) for v in dataset[label]])
    rms = np.sqrt((features**2).mean(axis=0)) + 1e-6
    x, y = _centered(features, groups) / rms, _centered(targets[:, None], groups)[:, 0]
    penalty, heldout = choose_penalty(x, y, groups, dropout_ridge(model) * len(x))
    stats = {"pairs": float(len(y)), "heldout_r2": heldout, "r2": 0.0, "applied": 0.0}
    if not heldout > 0.0:
        return stats
    beta = _solve(x, y, penalty)
    layer = output_layer(model.model)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(beta / rms, dtype=layer.weight.dtype).view_as(layer.weight))
        if layer.bias is not None:
            layer.bias.zero_()
    return {**stats, "r2": _r2(x, y, beta), "applied": 1.0}
