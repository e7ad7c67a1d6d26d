"""Stage 6 of the run order, warm start: the fresh reranker first learns the first stage's ranking.

The student inherits what the chosen first stage knows, from train queries (their labels unused; at most
half of the lists) and pseudo-queries made from the corpus, through :func:`crossrank.warm_start.warm_start`
with the first stage as teacher (the same BM25 / embedder / hybrid weight chosen on dev; the embedder reuses
the corpus vectors cached by the first stage). Its size comes from the sizing stage; it trains at the plan's
max_length, at most ``WARM_MAX_LENGTH`` (128) tokens. The warm model is
measured on dev, and the training stage keeps whichever checkpoint dev prefers, this one included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crossrank.fit.config import FitConfig
from crossrank.fit.size import WARM_MAX_LENGTH

WARM_BATCH = 8  # lists per optimiser step
HELDOUT_LISTS = 16  # teacher lists kept out to measure the distillation loss before and after
HEAD_LISTS = 32  # teacher lists the output layer's least-squares start is fitted on
GUARD = 2.0  # the warm start stops at this multiple of its planned seconds (a machine slower than measured)


def make_teacher(first: Mapping[str, Any], embedder: str, cache: Path) -> Any:
    """The warm-start teacher that matches the chosen first stage."""
    from crossrank.warm_start import BM25Teacher, EmbedderTeacher, HybridTeacher

    if first["chosen"] == "bm25":
        return BM25Teacher()
    dense = EmbedderTeacher(embedder, cache_folder=str(cache))
    if first["chosen"] == "dense":
        return dense
    return HybridTeacher(dense, BM25Teacher(), float(first["hybrid_weight"]))


def user_queries(train: list[str], lists: int, seed: int) -> list[str]:
    """At most half of the warm-start lists come from train queries (seeded), the rest are pseudo-queries."""
    import numpy as np

    take = min(len(train), max(1, lists // 2))
    picks = np.random.default_rng(seed + 11).permutation(len(train))[:take]
    return [train[i] for i in sorted(picks.tolist())]


def warm_corpus(corpus: Mapping[str, str]) -> list[str]:
    """The documents the warm start draws pseudo-queries and teacher candidates from, in id order: the
    non-empty ones (a BEIR corpus keeps its empty documents, which can be judged, e.g. Cranfield's 471 and 995;
    an empty text makes no pseudo-query and teaches no order)."""
    return [corpus[d] for d in sorted(corpus) if corpus[d].strip()]


def run_warm_start(model: Any, collection: Mapping[str, Any], split: Mapping[str, list[str]],
                   first: Mapping[str, Any], plan: Mapping[str, Any], config: FitConfig, cache: Path) -> dict[str, Any]:
    """Warm-start ``model`` in place; returns what was done (the library's WarmStartReport, as a dict)."""
    from dataclasses import asdict

    from crossrank.warm_start import WarmStartConfig, warm_start

    warm = plan["warm_start"]
    corpus = warm_corpus(collection["corpus"])
    lists = max(WARM_BATCH, int(warm["lists"]))
    queries = [collection["queries"][q] for q in user_queries(split["train"], lists, config.seed)]
    options = WarmStartConfig(num_lists=lists, max_steps=max(1, lists // WARM_BATCH), batch_size=WARM_BATCH,
                              max_length=min(int(plan["max_length"]), WARM_MAX_LENGTH), seed=config.seed,
                              embedder=config.embedder,
                              teacher={"bm25": "bm25", "dense": "embedder"}.get(first["chosen"], "hybrid"),
                              hybrid_weight=float(first["hybrid_weight"] or 0.5),
                              budget_s=GUARD * warm["seconds"] if warm.get("seconds") else None,
                              head_init_lists=HEAD_LISTS, keep_freed_memory=True)
    report = warm_start(model, queries, corpus, teacher=make_teacher(first, config.embedder, cache), config=options,
                        heldout_lists=HELDOUT_LISTS)
    return asdict(report)
