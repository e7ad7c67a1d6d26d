"""Stage 8 of the run order, evaluate: the test queries, scored once, measured three ways in two modes.

Rows: the retriever alone (its own order), the reranker alone (its logits) and the two fused with the weight
dev chose. Modes: ``realistic`` reranks the first stage's top ``k`` (a relevant document the first stage
missed stays missed), ``all_positives`` adds every relevant document to the list (the reranker's ranking
quality on its own; a document the first stage missed gets the list's lowest first-stage score for fusion).
Metrics: NDCG@10, MRR@10, MAP, Recall@10 and Recall@k. All pairs are scored in one call of
:meth:`crossrank.CrossEncoder.logits`; the other first stages' test metrics are reported beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from crossrank.data.columns import is_positive
from crossrank.fit.metrics import AT_K, mean_metrics, query_metrics, run_metrics

MODES = ("realistic", "all_positives")
MAX_SCORE_SAMPLES = 20000


def test_lists(collection: Mapping[str, Any], run: Mapping[str, Mapping[str, float]], query_ids: Sequence[str],
               depth: int) -> list[dict[str, Any]]:
    """Per test query: the top ``depth`` ids with first-stage scores, and the relevant ids it missed."""
    out = []
    for qid in query_ids:
        ranked = sorted(run.get(qid, {}).items(), key=lambda item: -item[1])[:depth]
        found = {d for d, _ in ranked}
        missed = sorted(d for d, g in collection["qrels"][qid].items() if is_positive(g) and d not in found)
        out.append({"query_id": qid, "documents": [d for d, _ in ranked], "first": [s for _, s in ranked],
                    "missed": missed})
    return out


def score_lists(model: Any, collection: Mapping[str, Any], lists: Sequence[Mapping[str, Any]],
                batch_size: int = 32) -> list[np.ndarray]:
    """Raw logits of every listed and missed document, one array per query (one scoring call)."""
    queries, corpus = collection["queries"], collection["corpus"]
    pairs = [(queries[x["query_id"]], corpus[d]) for x in lists for d in [*x["documents"], *x["missed"]]]
    logits = np.asarray(model.logits(pairs, batch_size=batch_size, show_progress_bar=True), dtype=np.float64)
    logits = logits.reshape(len(pairs), -1)[:, 0]
    out, offset = [], 0
    for x in lists:
        n = len(x["documents"]) + len(x["missed"])
        out.append(logits[offset : offset + n])
        offset += n
    return out


def measure_lists(lists: Sequence[Mapping[str, Any]], logits: Sequence[np.ndarray], qrels: Mapping[str, Any],
                  fusion: Any, depth: int) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{mode: {row: {query id: metrics}}}`` for the retriever, reranker and fused rows."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {m: {"retriever": {}, "reranker": {}, "fused": {}}
                                                                for m in MODES}
    for x, scores in zip(lists, logits):
        qid, judged, n = x["query_id"], qrels[x["query_id"]], len(x["documents"])
        docs_all = [*x["documents"], *x["missed"]]
        first = np.asarray(x["first"], dtype=np.float64)
        floor = float(first.min()) if first.size else 0.0
        first_all = np.concatenate([first, np.full(len(x["missed"]), floor)])
        for mode, docs, rerank, fs in (("realistic", x["documents"], scores[:n], first),
                                       ("all_positives", docs_all, scores, first_all)):
            out[mode]["retriever"][qid] = query_metrics(x["documents"], None, judged, depth)
            out[mode]["reranker"][qid] = query_metrics(docs, rerank, judged, depth)
            fused = fusion.apply(rerank, fs) if fusion is not None and len(docs) else rerank
            out[mode]["fused"][qid] = query_metrics(docs, fused, judged, depth)
    return out


def score_samples(lists: Sequence[Mapping[str, Any]], logits: Sequence[np.ndarray], qrels: Mapping[str, Any],
                  seed: int) -> dict[str, list[float]]:
    """Reranker logits of relevant and other documents of the realistic lists (a seeded sample), for the plot."""
    relevant, other = [], []
    for x, scores in zip(lists, logits):
        judged = qrels[x["query_id"]]
        for d, s in zip(x["documents"], scores[: len(x["documents"])]):
            (relevant if is_positive(judged.get(d, 0)) else other).append(float(s))
    rng = np.random.default_rng(seed)
    if len(other) > MAX_SCORE_SAMPLES:
        other = [other[i] for i in sorted(rng.permutation(len(other))[:MAX_SCORE_SAMPLES].tolist())]
    return {"relevant": relevant, "other": other}


def evaluate(model: Any, collection: Mapping[str, Any], first: Mapping[str, Any], test: Sequence[str], depth: int,
             seed: int) -> dict[str, Any]:
    """Test metrics of every row and mode, the other first stages' test metrics, and the plots' data."""
    run = first["runs"][first["chosen"]]
    lists = test_lists(collection, run, test, depth)
    logits = score_lists(model, collection, lists)
    per_query = measure_lists(lists, logits, collection["qrels"], model.fusion, depth)
    tables = {mode: {row: mean_metrics(values) for row, values in rows.items()} for mode, rows in per_query.items()}
    retrievers = {name: mean_metrics(run_metrics(r, collection["qrels"], test, depth, depth))
                  for name, r in first["runs"].items()}
    key = f"ndcg@{AT_K}"
    gains = {qid: per_query["realistic"]["fused"][qid][key] - per_query["realistic"]["retriever"][qid][key]
             for qid in test}
    return {"tables": tables, "retrievers": retrievers, "queries": len(test), "depth": depth,
            "per_query_gain": gains, "scores": score_samples(lists, logits, collection["qrels"], seed),
            "reranker_gain": {qid: per_query["realistic"]["reranker"][qid][key]
                              - per_query["realistic"]["retriever"][qid][key] for qid in test}}


def summary(payload: Mapping[str, Any]) -> str:
    t, key = payload["tables"]["realistic"], f"ndcg@{AT_K}"
    return (f"test NDCG@10 on {payload['queries']} queries (top {payload['depth']}): retriever "
            f"{t['retriever'][key]:.4f}, reranker {t['reranker'][key]:.4f}, fused {t['fused'][key]:.4f} "
            f"({t['fused'][key] - t['retriever'][key]:+.4f})")
