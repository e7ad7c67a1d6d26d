"""Run several evaluators one after the other and combine their primary metrics into one score."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from crossrank.evaluation.base import Evaluator
from crossrank.inference.protocols import PairScorer


def _last(scores: Sequence[float]) -> float:
    return scores[-1]


class SequentialEvaluator(Evaluator):
    """Call each evaluator in turn, merge their results, and add ``sequential_score``.

    ``sequential_score`` is ``main_score_function`` applied to the list of each evaluator's primary metric
    (default: the last one). It is the primary metric. Evaluators that return a bare float are stored as
    ``evaluator_{index}``.

    Example:
        >>> import numpy as np
        >>> combined = SequentialEvaluator([], main_score_function=lambda scores: float(np.mean(scores)))
        >>> combined.primary_metric
        'sequential_score'
    """

    def __init__(
        self,
        evaluators: Iterable[Any],
        main_score_function: Callable[[list[float]], float] = _last,
    ) -> None:
        """Keep the evaluators.

        Args:
            evaluators: Evaluators to call, in order.
            main_score_function: Combines the list of primary metrics into ``sequential_score``.
        """
        self.evaluators = list(evaluators)
        self.main_score_function = main_score_function
        self.name = ""
        self.primary_metric = "sequential_score"
        self.greater_is_better = True

    def __call__(
        self, model: PairScorer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Run every evaluator on ``model`` and return all their metrics plus ``sequential_score``."""
        results: dict[str, float] = {}
        primaries: list[float] = []
        for index, evaluator in enumerate(self.evaluators):
            outcome = evaluator(model, output_path, epoch, steps)
            if not isinstance(outcome, dict):
                outcome = {f"evaluator_{index}": float(outcome)}
                primaries.append(float(outcome[f"evaluator_{index}"]))
            else:
                key = getattr(evaluator, "primary_metric", None) or next(iter(outcome))
                if key not in outcome:
                    raise KeyError(
                        f"evaluator {index} ({type(evaluator).__name__}) declares primary_metric {key!r} but "
                        f"returned only {sorted(outcome)}; fix its primary_metric."
                    )
                primaries.append(float(outcome[key]))
            results.update(outcome)
        results["sequential_score"] = float(self.main_score_function(primaries)) if primaries else 0.0
        return results
