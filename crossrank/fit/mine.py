"""Stage 4, mine: negatives for the train queries from the first stage's candidates, plus random ones.

Per train query: its judged negatives (label 0 rows of PAIRS) first, then hard negatives drawn (seeded) from
the first stage's ranks ``hard_range = [min, max)``, then ``random_negatives`` uniform draws from the
corpus. A hard negative must pass the margin: its first-stage score, z-scored within the query's list,
stays ``margin`` below the query's lowest-scoring retrieved positive (an unlabelled relevant document
tends to score like the labelled ones). Filtering and sampling are the library's mining steps
(:func:`crossrank.mining.hard_negatives.filter_candidates` and ``select_negatives``) run on the first stage's
scores instead of embeddings.

A document with no text (a BEIR corpus keeps them: Cranfield has two, both judged) goes into no training list,
as a positive or a negative of any kind: it has nothing to score, and the trainer's data check refuses an empty
input. The summary counts what was left out, and a train query whose every relevant document is empty gets no
list (counted too) rather than a list without a positive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from crossrank.data.columns import is_positive
from crossrank.fit.config import FitConfig

MAX_POSITIVES_PER_LIST = 8


def _candidate_tensors(run: Mapping[str, Mapping[str, float]], qids: Sequence[str], doc_index: Mapping[str, int],
                       depth: int, usable: Callable[[str], bool]) -> tuple[torch.Tensor, torch.Tensor]:
    scores = torch.full((len(qids), depth), -math.inf)
    indices = torch.full((len(qids), depth), -1, dtype=torch.long)
    from crossrank.inference.fusion import normalize_scores

    for row, qid in enumerate(qids):
        ranked = [item for item in sorted(run.get(qid, {}).items(), key=lambda item: -item[1])
                  if usable(item[0])][:depth]
        if not ranked:
            continue
        z = normalize_scores([s for _, s in ranked])
        scores[row, : len(ranked)] = torch.as_tensor(z, dtype=torch.float32)
        indices[row, : len(ranked)] = torch.as_tensor([doc_index[d] for d, _ in ranked])
    return scores, indices


def hard_negatives(run: Mapping[str, Mapping[str, float]], qids: Sequence[str], positives: Sequence[list[int]],
                   doc_ids: Sequence[str], config: FitConfig, wanted: Sequence[int],
                   usable: Callable[[str], bool] = lambda _: True) -> tuple[list[list[int]], dict]:
    """Per query, up to ``wanted[q]`` hard negatives (corpus indices) and the filters' skip counts.

    ``usable`` says which documents may be candidates (``mine`` leaves out the empty ones); the ranks of
    ``hard_range`` count the usable candidates only.
    """
    from crossrank.mining.config import MiningConfig
    from crossrank.mining.hard_negatives import Prepared, filter_candidates, select_negatives

    doc_index = {d: i for i, d in enumerate(doc_ids)}
    low, high = config.hard_range
    scores, indices = _candidate_tensors(run, qids, doc_index, high, usable)
    pos_scores = []
    for row, ids in enumerate(positives):
        found = {int(i): float(s) for i, s in zip(indices[row].tolist(), scores[row].tolist()) if i >= 0}
        pos_scores.extend(found.get(i, math.inf) for i in ids)
    prepared = Prepared([str(q) for q in qids], list(doc_ids), [list(p) for p in positives],
                        max(len(p) for p in positives), sum(len(p) for p in positives))
    most = max(1, max(wanted, default=1))
    mining = MiningConfig(range_min=low, range_max=high, absolute_margin=config.margin,
                          num_negatives=min(most, high - low),
                          sampling_strategy="random", seed=config.seed, verbose=False)
    filtered, skipped = filter_candidates(scores, indices, torch.tensor(pos_scores), prepared, mining)
    neg_scores, neg_indices = select_negatives(filtered, indices, high, mining)
    out = []
    for row, n in enumerate(wanted):
        picks = [int(i) for i, s in zip(neg_indices[row].tolist(), neg_scores[row].tolist()) if i >= 0 and
                 math.isfinite(s)]
        out.append(picks[:n])
    return out, {name: count for name, (count, _) in skipped.items()}


def mine(collection: Mapping[str, Any], split: Mapping[str, list[str]], run: Mapping[str, Mapping[str, float]],
         config: FitConfig) -> dict[str, Any]:
    """Training lists ``{query id, documents (ids), labels}``: positives first, then the negatives."""
    qrels, corpus, doc_ids = collection["qrels"], collection["corpus"], sorted(collection["corpus"])
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    empty = {d for d in doc_ids if not str(corpus[d]).strip()}
    rng = np.random.default_rng(config.seed)
    qids, positives, judged, left_out = _judged_lists(split["train"], qrels, doc_index, empty, config, rng)
    wanted = [config.num_negatives - len(j) for j in judged]
    hard, skipped = hard_negatives(run, qids, positives, doc_ids, config, wanted, lambda d: d not in empty)
    usable = np.asarray([i for i, d in enumerate(doc_ids) if d not in empty])
    lists, counts = [], {"judged": 0, "hard": 0, "random": 0}
    for q, pos, own, mined in zip(qids, positives, judged, hard):
        taken = set(pos) | set(own) | set(mined)
        draw = rng.choice(usable, size=min(usable.size, 4 * config.random_negatives + 8), replace=False)
        pool = [int(i) for i in draw.tolist() if i not in taken][: config.random_negatives]
        negatives = own + mined + pool
        counts["judged"] += len(own)
        counts["hard"] += len(mined)
        counts["random"] += len(pool)
        lists.append({"query_id": q, "documents": [doc_ids[i] for i in pos + negatives],
                      "labels": [1.0] * len(pos) + [0.0] * len(negatives)})
    return {"lists": lists, "counts": counts, "skipped_by_filter": skipped,
            "empty": {"documents": len(empty), **left_out},
            "settings": {"hard_range": list(config.hard_range), "margin": config.margin,
                         "num_negatives": config.num_negatives, "random_negatives": config.random_negatives}}


def _judged_lists(train: Sequence[str], qrels: Mapping[str, Any], doc_index: Mapping[str, int], empty: set[str],
                  config: FitConfig, rng: np.random.Generator) -> tuple[list, list, list, dict[str, int]]:
    """The train queries that keep a non-empty positive, their positives and judged negatives (indices),
    and the counts of empty positives and of queries left without a list."""
    qids, positives, judged = [], [], []
    left = {"positives": 0, "queries": 0}
    for q in train:
        relevant = [d for d, g in qrels[q].items() if is_positive(g)]
        kept = [doc_index[d] for d in relevant if d not in empty]
        left["positives"] += len(relevant) - len(kept)
        if not kept:
            left["queries"] += 1
            continue
        qids.append(q)
        positives.append(kept[:MAX_POSITIVES_PER_LIST])
        negatives = sorted(doc_index[d] for d, g in qrels[q].items() if not is_positive(g) and d not in empty)
        take = min(len(negatives), config.num_negatives)
        judged.append(sorted(rng.choice(negatives, size=take, replace=False).tolist()) if take else [])
    return qids, positives, judged, left


def summary(payload: Mapping[str, Any]) -> str:
    c, n = payload["counts"], max(len(payload["lists"]), 1)
    skipped = payload["skipped_by_filter"].get("absolute_margin", 0)
    return (f"{len(payload['lists'])} train lists: {c['hard'] / n:.1f} hard + {c['random'] / n:.1f} random"
            + (f" + {c['judged'] / n:.1f} judged" if c["judged"] else "") + " negatives per query "
            f"(ranks {payload['settings']['hard_range']}, margin {payload['settings']['margin']}: "
            f"{skipped} candidates too close to a positive skipped)" + _empty_note(payload.get("empty", {})))


def _empty_note(empty: Mapping[str, int]) -> str:
    if not empty.get("documents"):
        return ""
    return (f"; {empty['documents']} empty documents go into no list ({empty['positives']} of them judged "
            f"relevant to train queries, {empty['queries']} train queries left without a list)")
