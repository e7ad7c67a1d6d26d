"""Stage 2, split: queries into train / dev / test, seeded, no query in two splits.

Queries are grouped by their normalised text before splitting, so two ids with the same question land in
the same split. ``--eval`` queries form the test split; a PAIRS query whose text is also an --eval query
is kept out of train and dev (counted). Only queries with a relevant document are split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crossrank.data.columns import is_positive
from crossrank.fit.config import FitConfig

MIN_TRAIN, MIN_DEV, MIN_TEST = 20, 10, 10


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _groups(ids: list[str], queries: dict[str, str]) -> list[list[str]]:
    by_text: dict[str, list[str]] = {}
    for qid in sorted(ids):
        by_text.setdefault(_norm(queries[qid]), []).append(qid)
    return [by_text[key] for key in sorted(by_text)]


def minimum_queries(with_eval: bool) -> int:
    return MIN_TRAIN + MIN_DEV + (0 if with_eval else MIN_TEST)


def split_queries(collection: dict[str, Any], config: FitConfig) -> dict[str, Any]:
    """``{"train": [...], "dev": [...], "test": [...], "overlap_removed": n}`` (query ids, sorted)."""
    queries, qrels = collection["queries"], collection["qrels"]
    eval_ids = list(collection["eval_ids"])
    eval_texts = {_norm(queries[q]) for q in eval_ids}
    answered = [q for q in queries if q not in set(eval_ids) and any(is_positive(g) for g in qrels.get(q, {}).values())]
    overlap = [q for q in answered if _norm(queries[q]) in eval_texts]
    pool = _groups([q for q in answered if _norm(queries[q]) not in eval_texts], queries)
    need = minimum_queries(bool(eval_ids))
    found = sum(len(g) for g in pool)
    if len(pool) < need:
        parts = f"{MIN_TRAIN} train + {MIN_DEV} dev" + ("" if eval_ids else f" + {MIN_TEST} test")
        raise ValueError(f"PAIRS has {len(pool)} distinct queries with a relevant document ({found} ids); a fit "
                         f"needs at least {need} ({parts}). Add labelled queries"
                         + ("." if eval_ids else ", or pass --eval with separate test queries."))
    order = np.random.default_rng(config.seed).permutation(len(pool))
    n = len(pool)
    n_test = 0 if eval_ids else max(MIN_TEST, round(config.test_fraction * n))
    n_dev = max(MIN_DEV, min(config.max_dev_queries, round(config.dev_fraction * n)))
    picked = [pool[i] for i in order]
    test = [q for g in picked[:n_test] for q in g]
    dev = [q for g in picked[n_test : n_test + n_dev] for q in g]
    train = [q for g in picked[n_test + n_dev :] for q in g]
    if len(picked) - n_test - n_dev < MIN_TRAIN:
        n_dev = len(picked) - n_test - MIN_TRAIN
        dev = [q for g in picked[n_test : n_test + n_dev] for q in g]
        train = [q for g in picked[n_test + n_dev :] for q in g]
    return {"train": sorted(train), "dev": sorted(dev), "test": sorted(test) if not eval_ids else sorted(eval_ids),
            "overlap_removed": len(overlap), "test_from_eval": bool(eval_ids)}


def summary(payload: dict[str, Any]) -> str:
    text = (f"{len(payload['train'])} train / {len(payload['dev'])} dev / {len(payload['test'])} test queries"
            + (" (test = --eval)" if payload["test_from_eval"] else " (seeded split)"))
    if payload["overlap_removed"]:
        text += f"; {payload['overlap_removed']} PAIRS queries also in --eval kept out of train and dev"
    return text
