"""The evaluator protocol shared by every crossrank evaluator and the trainer that calls them."""

from __future__ import annotations

import re
from typing import Any

from crossrank.inference.protocols import PairScorer


def epoch_text(epoch: int, steps: int) -> str:
    """A short phrase for log lines: ``" after epoch 1"``, ``" in epoch 1 after 50 steps"`` or ``""``."""
    if epoch == -1:
        return ""
    return f" after epoch {epoch}" if steps == -1 else f" in epoch {epoch} after {steps} steps"


class Evaluator:
    """Base class: ``evaluator(model, output_path=None, epoch=-1, steps=-1) -> dict[str, float]``.

    Subclasses set ``name``, ``primary_metric`` (the full, name-prefixed key of the metric used for model
    selection) and ``greater_is_better``, and implement ``__call__``. Keys are prefixed with
    ``f"{name}_"`` when a name is set; the trainer adds its own ``eval_`` prefix.
    """

    name: str = ""
    primary_metric: str = ""
    greater_is_better: bool = True

    def __call__(
        self, model: PairScorer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Evaluate ``model``; append a CSV row under ``output_path`` when given."""
        raise NotImplementedError

    def prefixed(self, key: str) -> str:
        """``key`` with this evaluator's name in front (``"dev_map"``), or ``key`` itself without a name."""
        return f"{self.name}_{key}" if self.name else key

    def prefix_metrics(self, metrics: dict[str, Any]) -> dict[str, float]:
        """Prefix every key with the evaluator name and convert every value to a Python float."""
        return {self.prefixed(key): float(value) for key, value in metrics.items()}

    @property
    def description(self) -> str:
        """Readable kind of evaluation for tables and model cards (``RerankingEvaluator`` -> ``Reranking``)."""
        class_name = type(self).__name__.removesuffix("Evaluator")
        return re.sub(r"([a-z])([A-Z])", r"\1 \2", class_name)

    def get_config_dict(self) -> dict[str, Any]:
        """Non-default settings worth showing in a model card."""
        return {}
