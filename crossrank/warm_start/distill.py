"""Measure the distillation loss: the warm-start loss on teacher lists the student did not train on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

T = TypeVar("T")


def heldout_split(items: Sequence[T], count: int, seed: int) -> tuple[list[T], list[T]]:
    """``(train, held)``: ``count`` items (seeded choice, at most a tenth of them) held out of training."""
    take = min(count, len(items) // 10)
    if take <= 0:
        return list(items), []
    held = set(np.random.default_rng(seed + 1).choice(len(items), size=take, replace=False).tolist())
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]


def mean_loss(model: Any, loss: Any, dataset: Any, max_length: int, batch_size: int = 8) -> float:
    """The loss's mean over ``dataset`` (batches of ``batch_size`` rows), without gradients, in eval mode."""
    from crossrank.data.collator import RerankCollator
    from crossrank.training.trainer import scores_to_grid

    collate = RerankCollator(model, loss)
    saved_length, was_training = model.max_length, model.model.training
    model.max_length = min(max_length, saved_length)
    model.model.eval()
    total, rows = 0.0, 0
    try:
        with torch.inference_mode():
            for start in range(0, len(dataset), batch_size):
                batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
                features = {k: v.to(model.device) for k, v in batch["features"].items()}
                logits = model.model(**features, return_dict=True).logits
                mask = batch["mask"].to(model.device)
                value = loss(scores_to_grid(logits, mask), batch["labels"].to(model.device), mask)
                total += float(value) * len(batch["mask"])
                rows += len(batch["mask"])
    finally:
        model.max_length = saved_length
        model.model.train(was_training)
    return total / max(rows, 1)
