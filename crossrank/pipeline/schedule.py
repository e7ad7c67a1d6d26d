"""The keep-best schedule: evaluate (and checkpoint) a fixed number of times, reload the best at the end.

``crossrank train`` with an evaluator evaluates about five times over the run; the quality benchmarks ask
for a number of evaluations per epoch. Both are :func:`keep_best_arguments` with a different count.
"""

from __future__ import annotations

import math
from typing import Any

DEFAULT_EVALUATIONS = 5


def total_steps(train_rows: int, batch_size: int, epochs: float, gradient_accumulation_steps: int = 1,
                max_steps: int = -1) -> int:
    """Optimizer steps of a run: ``max_steps`` when positive, else ``ceil(rows / batch) * epochs`` (at least 1).

    ``batch_size`` is the per-step batch of one process (multiply by the process count yourself).
    """
    if max_steps > 0:
        return max_steps
    per_step = max(1, batch_size * gradient_accumulation_steps)
    return max(1, math.ceil(math.ceil(train_rows / per_step) * epochs))


def evaluation_interval(steps: int, evaluations: float) -> int:
    """Steps between evaluations so that a run of ``steps`` evaluates about ``evaluations`` times."""
    if evaluations <= 0:
        raise ValueError(f"the number of evaluations must be positive; found {evaluations}.")
    return max(1, min(steps, math.ceil(steps / evaluations)))


def keep_best_arguments(metric: str, steps: int, evaluations: float = DEFAULT_EVALUATIONS,
                        greater_is_better: bool = True, save_total_limit: int = 2) -> dict[str, Any]:
    """``TrainingArguments`` keys that evaluate every ``evaluation_interval(steps, evaluations)`` steps,
    save a checkpoint each time, keep ``save_total_limit`` of them and reload the best by ``eval_{metric}``.

    Args:
        metric: the evaluator's primary metric (without the ``eval_`` prefix).
        steps: optimizer steps of the run (see :func:`total_steps`).
        evaluations: how many evaluations the run should make.
        greater_is_better: the evaluator's direction.
        save_total_limit: checkpoints kept on disk (the best one is always kept).
    """
    every = evaluation_interval(steps, evaluations)
    return {
        "eval_strategy": "steps", "eval_steps": every, "save_strategy": "steps", "save_steps": every,
        "save_total_limit": save_total_limit, "load_best_model_at_end": True,
        "metric_for_best_model": f"eval_{metric}", "greater_is_better": greater_is_better,
    }
