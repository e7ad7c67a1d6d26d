"""The evaluator of a training run: a ``RerankingEvaluator`` from an :class:`EvaluatorSpec`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crossrank.evaluation import RerankingEvaluator
    from crossrank.pipeline.config import EvaluatorSpec, TrainConfig


def build_evaluator(config: TrainConfig, spec: EvaluatorSpec | None) -> RerankingEvaluator | None:
    """Group the spec's (query, document, label) rows per query (label > 0 is relevant) into an evaluator.

    With ``first_stage``, the candidates are ordered by that embedding model's cosine (the ``base_*``
    metrics) and queries without a positive are left out (the first stage cannot rank them).

    Raises:
        ValueError: without ``data``; FileNotFoundError on a missing file.
    """
    if spec is None:
        return None
    from crossrank.data.grouping import group_labeled_pairs
    from crossrank.evaluation import RerankingEvaluator
    from crossrank.pipeline.data import load_split

    if spec.data is None:
        raise ValueError("the evaluator needs 'data': a file of (query, document, label) rows.")
    samples = group_labeled_pairs(load_split(config, spec.data))
    if spec.max_queries:
        samples = samples[: spec.max_queries]
    if spec.first_stage:
        from crossrank.inference.loading import resolve_model_source
        from crossrank.mining.eval_samples import add_first_stage_scores

        first_stage = resolve_model_source(config.path(spec.first_stage))
        samples = add_first_stage_scores([s for s in samples if s["positive"]], first_stage)
    options = {k: getattr(spec, k) for k in ("at_k", "batch_size", "always_rerank_positives")
               if getattr(spec, k) is not None}
    return RerankingEvaluator(samples, name=spec.name, **options)
