"""Stage 6's last choice: how many of the first stage's candidates the trained reranker should rescore.

The plan's depth is what the budget affords for scoring dev and test; it is not the depth that ranks best. A
reranker trained on a few hundred queries with negatives from the top ranks can misjudge documents from deeper
in the list (measured on Cranfield's dev split, 2026-12-02: alone 0.45 NDCG@10 at the top 10, 0.24 at the top
100; fused 0.476 at the top 20 vs 0.469 at the top 100). So the dev split is scored once at the plan's depth
and every shallower depth of :data:`~crossrank.fit.size.DEPTHS` is judged from those same scores: for each,
the fused NDCG@10 at the best fusion weight, on the full basis (relevant documents the first stage missed
count against every depth alike). The deepest depth within :data:`TOLERANCE` of the best wins: a deeper list
can still bring up a document the first stage ranked low, which is what a reranker is for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from crossrank.fit.evaluate import score_lists, test_lists
from crossrank.fit.metrics import AT_K, query_metrics
from crossrank.inference.fusion import DEFAULT_WEIGHTS, Fusion

TOLERANCE = 0.002  # NDCG@10: differences this small are noise on a dev split of tens of queries


def fused_curve(lists: Sequence[Mapping[str, Any]], logits: Sequence[np.ndarray], qrels: Mapping[str, Any],
                depth: int) -> dict[float, float]:
    """Mean NDCG@10 over ``lists`` when each query's top ``depth`` is fused at each weight (1.0: first stage)."""
    curve = {}
    for weight in DEFAULT_WEIGHTS:
        values = []
        for item, scores in zip(lists, logits):
            first = np.asarray(item["first"][:depth], dtype=np.float64)
            fused = first if weight == 1.0 else Fusion(weight, "zscore").apply(scores[:depth], first)
            values.append(query_metrics(item["documents"][:depth], fused, qrels[item["query_id"]], depth)
                          [f"ndcg@{AT_K}"])
        curve[weight] = float(np.mean(values)) if values else 0.0
    return curve


def choose_rerank_depth(model: Any, collection: Mapping[str, Any], dev: Sequence[str],
                        run: Mapping[str, Mapping[str, float]], depth: int,
                        candidates: Sequence[int]) -> dict[str, Any]:
    """The rerank depth (one of ``candidates`` up to ``depth``) whose best fused dev NDCG@10 is highest."""
    lists = test_lists(collection, run, dev, depth)
    logits = score_lists(model, collection, [{**item, "missed": []} for item in lists])
    depths = sorted({d for d in candidates if d <= depth} | {depth}, reverse=True)
    best = {}
    for k in depths:
        curve = fused_curve(lists, logits, collection["qrels"], k)
        weight = float(max(curve, key=lambda w: (curve[w], -w)))
        best[k] = {"weight": weight, "fused": curve[weight], "reranker": curve[0.0], "first_stage": curve[1.0]}
    top = max(row["fused"] for row in best.values())
    chosen = next(k for k in depths if best[k]["fused"] >= top - TOLERANCE)
    return {"rerank_k": chosen, "by_depth": {str(k): v for k, v in best.items()}}


def summary(choice: Mapping[str, Any]) -> str:
    if choice.get("pinned"):
        return f"rerank depth {choice['rerank_k']} (--rerank-k)"
    rows = ", ".join(f"top {k} {v['fused']:.4f}" for k, v in choice["by_depth"].items())
    return f"rerank depth {choice['rerank_k']} (best fused dev NDCG@10 by depth: {rows})"
