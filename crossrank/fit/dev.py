"""The development split as an evaluator: each dev query's first-stage top ``k``, as the reranker will see it.

Built with the library's own pieces (:func:`crossrank.evaluation.beir.build_lists` and
:class:`crossrank.evaluation.RerankingEvaluator`) in the realistic mode: only the first stage's candidates
are scored, and their first-stage scores ride along so that the fusion weight can be tuned on dev.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crossrank.fit.first_stage import collection_data
from crossrank.fit.metrics import AT_K


def dev_evaluator(collection: Mapping[str, Any], query_ids: Sequence[str], run: Mapping[str, Mapping[str, float]],
                  depth: int, name: str = "dev", batch_size: int = 32) -> Any:
    """A RerankingEvaluator over ``query_ids`` (each with the run's top ``depth`` and first-stage scores)."""
    from crossrank.evaluation import RerankingEvaluator
    from crossrank.evaluation.beir import build_lists

    data = collection_data(collection, query_ids)
    lists = build_lists(data, {q: dict(run[q]) for q in query_ids}, depth, AT_K, False, "binary")
    return RerankingEvaluator.from_ranking_lists(lists, at_k=AT_K, always_rerank_positives=False, name=name,
                                                 batch_size=batch_size, write_csv=False)


def eval_subset(query_ids: Sequence[str], count: int, seed: int) -> list[str]:
    """``count`` of the dev queries (seeded), for the evaluations during training."""
    import numpy as np

    ids = sorted(query_ids)
    if count >= len(ids):
        return ids
    picks = np.random.default_rng(seed + 7).permutation(len(ids))[:count]
    return sorted(ids[i] for i in picks.tolist())
