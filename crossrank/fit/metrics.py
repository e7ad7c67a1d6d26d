"""Per-query ranking metrics of a candidate list against the judgements, via ``evaluation.metrics``.

A list ranks only the documents it holds. Relevant documents it lacks count as not found: they are placed
below every cut-off for NDCG@k, MRR@k and Recall@k (they add to the ideal, never to the gain), and average
precision is that of the list times the share of the relevant documents it holds (TREC's definition: a
missed relevant document contributes precision 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from crossrank.data.columns import is_positive
from crossrank.evaluation import metrics as M

AT_K = 10


def metric_names(recall_k: int) -> list[str]:
    return [f"ndcg@{AT_K}", f"mrr@{AT_K}", "map", f"recall@{AT_K}", f"recall@{recall_k}"]


def query_metrics(doc_ids: Sequence[str], scores: Sequence[float] | None, judged: Mapping[str, float],
                  recall_k: int) -> dict[str, float]:
    """Metrics of one query's list, ranked by ``scores`` (None: the list's own order, best first)."""
    relevant = {d for d, g in judged.items() if is_positive(g)}
    gains = [1.0 if d in relevant else 0.0 for d in doc_ids]
    values = np.arange(len(doc_ids), 0, -1, dtype=np.float64) if scores is None else np.asarray(scores, np.float64)
    found = int(sum(gains))
    missing = len(relevant) - found
    floor = float(values.min()) if values.size else 0.0
    pad = max(AT_K, recall_k) - len(gains) if missing else 0  # missed documents rank below every cut-off
    tail = [0.0] * max(pad, 0) + [1.0] * missing
    full_gains = np.asarray(gains + tail)
    full_scores = np.concatenate([values, floor - 1.0 - np.arange(len(tail), dtype=np.float64)])
    average_precision = M.average_precision(gains, values) * found / len(relevant) if found and relevant else 0.0
    return {
        f"ndcg@{AT_K}": M.ndcg_at_k(full_gains, full_scores, AT_K),
        f"mrr@{AT_K}": M.mrr_at_k(full_gains, full_scores, AT_K),
        "map": average_precision,
        f"recall@{AT_K}": M.recall_at_k(full_gains, full_scores, AT_K) if relevant else 0.0,
        f"recall@{recall_k}": M.recall_at_k(full_gains, full_scores, recall_k) if relevant else 0.0,
    }


def mean_metrics(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The mean of every metric over the queries."""
    if not per_query:
        return {}
    names = list(next(iter(per_query.values())))
    return {name: float(np.mean([values[name] for values in per_query.values()])) for name in names}


def run_metrics(run: Mapping[str, Mapping[str, float]], qrels: Mapping[str, Mapping[str, float]],
                query_ids: Sequence[str], depth: int, recall_k: int) -> dict[str, dict[str, float]]:
    """Per-query metrics of a first-stage run's top ``depth`` (its own order)."""
    out = {}
    for qid in query_ids:
        ranked = sorted(run.get(qid, {}).items(), key=lambda item: -item[1])[:depth]
        out[qid] = query_metrics([d for d, _ in ranked], None, qrels.get(qid, {}), recall_k)
    return out
