"""Stage 3, first stage: BM25, dense (the Embedder) and their hybrid, for every query; ``auto`` keeps the
best on dev.

BM25 and dense retrieval are the library's own searches (:func:`crossrank.evaluation.beir.bm25_search`,
:func:`~crossrank.evaluation.beir.dense_search`; corpus embeddings cached under ``OUT/cache``). The hybrid
pools both top lists per query, gives a document one retriever missed that retriever's lowest score in the
list, z-scores both within the pool (:func:`crossrank.inference.fusion.normalize_scores`) and mixes them
with the BM25 weight that is best on dev. The chosen retriever is the baseline every later number is
measured against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.fit.metrics import AT_K, mean_metrics, run_metrics

Run = dict[str, dict[str, float]]
HYBRID_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(1, 10))


class CachedEncoder:
    """An Embedder whose ``encode`` keeps its vectors in ``cache_folder`` (keyed by model and texts)."""

    def __init__(self, embedder: Any, cache_folder: str | Path, batch_size: int = 32) -> None:
        self.embedder, self.cache_folder, self.batch_size = embedder, str(cache_folder), batch_size

    def encode(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        return np.asarray(self.embedder.encode(list(texts), batch_size=self.batch_size, cache_folder=self.cache_folder,
                                               **kwargs), dtype=np.float32)


def collection_data(collection: Mapping[str, Any], query_ids: Sequence[str]) -> Any:
    """The library's in-memory collection (``BEIRData``) for ``query_ids``."""
    from crossrank.evaluation.beir import BEIRData

    queries = {q: collection["queries"][q] for q in query_ids}
    qrels = {q: dict(collection["qrels"].get(q, {})) for q in query_ids}
    return BEIRData("fit", dict(collection["corpus"]), queries, qrels)


def hybrid_run(bm25: Run, dense: Run, weight: float, depth: int) -> Run:
    """Per query: the pooled top lists, z-scored within the pool, ``weight * bm25 + (1 - weight) * dense``."""
    from crossrank.inference.fusion import normalize_scores

    out: Run = {}
    for qid in bm25:
        lexical, semantic = bm25[qid], dense.get(qid, {})
        pool = list(dict.fromkeys([*lexical, *semantic]))
        low_l = min(lexical.values(), default=0.0)
        low_s = min(semantic.values(), default=0.0)
        z_l = normalize_scores([lexical.get(d, low_l) for d in pool])
        z_s = normalize_scores([semantic.get(d, low_s) for d in pool])
        fused = weight * z_l + (1.0 - weight) * z_s
        order = np.argsort(-fused, kind="stable")[:depth]
        out[qid] = {pool[i]: float(fused[i]) for i in order}
    return out


def retrieve(collection: Mapping[str, Any], query_ids: Sequence[str], depth: int, kinds: Sequence[str],
             embedder: str, cache: Path) -> dict[str, Run]:
    """``{"bm25": run, "dense": run}`` (those asked for) for ``query_ids``, top ``depth`` each."""
    from crossrank.evaluation.beir import bm25_search, dense_search

    data = collection_data(collection, query_ids)
    runs: dict[str, Run] = {}
    if "bm25" in kinds:
        runs["bm25"] = bm25_search(data, list(query_ids), depth)
    if "dense" in kinds:
        from crossrank.embedder import Embedder

        encoder = CachedEncoder(Embedder(embedder), cache)
        runs["dense"] = dense_search(data, list(query_ids), depth, encoder)
    return runs


def dev_ndcg(run: Run, qrels: Mapping[str, Any], dev: Sequence[str], depth: int) -> dict[str, float]:
    return mean_metrics(run_metrics(run, qrels, dev, depth, depth))


def first_stage(collection: Mapping[str, Any], split: Mapping[str, list[str]], choice: str, depth: int,
                embedder: str, cache: Path) -> dict[str, Any]:
    """Run the retrievers, tune the hybrid weight on dev, keep ``choice`` (``auto``: best dev NDCG@10)."""
    query_ids = sorted({*split["train"], *split["dev"], *split["test"]})
    kinds = ["bm25"] if choice == "bm25" else ["dense"] if choice == "dense" else ["bm25", "dense"]
    runs = retrieve(collection, query_ids, depth, kinds, embedder, cache)
    qrels, dev = collection["qrels"], split["dev"]
    dev_metrics = {name: dev_ndcg(run, qrels, dev, depth) for name, run in runs.items()}
    curve: dict[str, float] = {}
    weight = None
    if "bm25" in runs and "dense" in runs:
        for w in HYBRID_WEIGHTS:
            curve[str(w)] = dev_ndcg(hybrid_run(runs["bm25"], runs["dense"], w, depth), qrels, dev, depth)[
                f"ndcg@{AT_K}"]
        weight = float(max(HYBRID_WEIGHTS, key=lambda w: (curve[str(w)], -abs(w - 0.5))))
        runs["hybrid"] = hybrid_run(runs["bm25"], runs["dense"], weight, depth)
        dev_metrics["hybrid"] = dev_ndcg(runs["hybrid"], qrels, dev, depth)
    key = f"ndcg@{AT_K}"
    chosen = max(dev_metrics, key=lambda n: dev_metrics[n][key]) if choice == "auto" else choice
    return {"runs": runs, "chosen": chosen, "dev": dev_metrics, "hybrid_weight": weight, "hybrid_curve": curve,
            "depth": depth, "reason": "best dev NDCG@10" if choice == "auto" else "--first-stage"}


def summary(payload: Mapping[str, Any]) -> str:
    key = f"ndcg@{AT_K}"
    parts = ", ".join(f"{name} {m[key]:.4f}" for name, m in payload["dev"].items())
    weight = f" (hybrid BM25 weight {payload['hybrid_weight']:.1f})" if payload["hybrid_weight"] is not None else ""
    return f"dev NDCG@10: {parts}{weight}; kept {payload['chosen']} ({payload['reason']})"
