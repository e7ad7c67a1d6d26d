"""Evaluators: one batched scoring call each, pure metrics, reference-compatible metric keys.

``evaluator(model, output_path=None, epoch=-1, steps=-1) -> dict[str, float]``; every evaluator has
``name``, ``primary_metric`` (full key) and ``greater_is_better``.
"""

from __future__ import annotations

from crossrank.evaluation.base import Evaluator
from crossrank.evaluation.beir import BEIRData, BEIREvaluator, load_beir_folder
from crossrank.evaluation.classification import ClassificationEvaluator
from crossrank.evaluation.correlation import CorrelationEvaluator
from crossrank.evaluation.reranking import RankingList, RerankingEvaluator
from crossrank.evaluation.sequential import SequentialEvaluator

__all__ = [
    "BEIRData",
    "BEIREvaluator",
    "ClassificationEvaluator",
    "CorrelationEvaluator",
    "Evaluator",
    "RankingList",
    "RerankingEvaluator",
    "SequentialEvaluator",
    "load_beir_folder",
]
