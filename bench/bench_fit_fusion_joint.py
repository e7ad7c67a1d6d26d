"""The hybrid's BM25 weight re-chosen together with the reranker's fusion weight, on a finished ``crossrank fit`` run.

    python bench/bench_fit_fusion_joint.py --out /tmp/fit-cran [--name NAME] [--model DIR] [--depths 20 100]

``fit`` tunes the hybrid's BM25 weight on dev before the reranker exists, then fuses the reranker with that
hybrid. A reranker started from the same weights as the dense retriever may repeat what the dense score
already says, so with the reranker in the mix a different BM25 share could be best. This script scores the
run's dev and test lists (the chosen first stage's top ``rerank_k``) once and, per query, mixes
``(1 - w) * z(reranker) + w * z(b * z(bm25) + (1 - b) * z(dense))`` (z: within the list; a document one
retriever missed gets that retriever's lowest score, as the hybrid does) over a grid of ``b`` and ``w``. It
prints the pair dev picks (fit's plateau rule on ``w`` at each ``b``; ``b`` by best dev mean) and that pair's
test NDCG@10. ``--model`` reads another checkpoint (e.g. the best one of a run stopped before its train stage
ended) and ``--depths`` the rerank depths to read (each list is scored once, at the deepest). Test chooses
nothing. Appends a row to ``bench/results/fit-fusion-joint.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, quiet  # noqa: E402
from bench_fit_fusion import WEIGHTS, choose, inputs, stage  # noqa: E402

SHARES = [round(0.1 * i, 1) for i in range(11)]
FIT = -1.0  # key of fit's own fusion (reranker + the hybrid's scores) in the curves


def retriever_scores(run: Mapping[str, Mapping[str, float]], qid: str, docs: Sequence[str]) -> np.ndarray:
    """The retriever's score of each listed document; one it did not return gets its lowest score."""
    mine = run.get(qid, {})
    low = min(mine.values(), default=0.0)
    return np.asarray([mine.get(d, low) for d in docs], dtype=np.float64)


def curves(lists: Sequence[Mapping[str, Any]], logits: Sequence[np.ndarray], runs: Mapping[str, Any],
           qrels: Mapping[str, Any], depth: int) -> dict[float, dict[float, np.ndarray]]:
    """``{bm25 share: {fusion weight: per-query NDCG@10}}`` (full basis)."""
    from crossrank.fit.metrics import AT_K, query_metrics
    from crossrank.inference.fusion import normalize_scores as z

    out: dict[float, dict[float, list[float]]] = {b: {w: [] for w in WEIGHTS} for b in [*SHARES, FIT]}
    for item, scores in zip(lists, logits):
        docs, qid = item["documents"], item["query_id"]
        rerank = np.asarray(scores[: len(docs)], np.float64)
        lexical = z(retriever_scores(runs["bm25"], qid, docs))
        semantic = z(retriever_scores(runs["dense"], qid, docs))
        for b in SHARES:
            first = z(b * lexical + (1 - b) * semantic)
            for w in WEIGHTS:
                fused = (1 - w) * z(rerank) + w * first
                out[b][w].append(query_metrics(docs, fused, qrels[qid], depth)[f"ndcg@{AT_K}"])
        for w in WEIGHTS:  # fit's own fusion: the hybrid's scores as they are
            fused = (1 - w) * z(rerank) + w * z(np.asarray(item["first"], np.float64))
            out[FIT][w].append(query_metrics(docs, fused, qrels[qid], depth)[f"ndcg@{AT_K}"])
    return {b: {w: np.asarray(v) for w, v in row.items()} for b, row in out.items()}


def cached_logits(model: Any, collection: Mapping[str, Any], lists: Sequence[Mapping[str, Any]],
                  path: Path) -> list[np.ndarray]:
    """The lists' logits, kept beside the checkpoint so a second reading scores nothing."""
    from crossrank.fit.evaluate import score_lists

    if path.is_file():
        saved = np.load(path)
        return [saved[str(i)] for i in range(len(lists))]
    logits = score_lists(model, collection, [{**x, "missed": []} for x in lists])
    np.savez(path, **{str(i): v for i, v in enumerate(logits)})
    return logits


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", default=None)
    p.add_argument("--model", type=Path, default=None, help="checkpoint (default: the train stage's model)")
    p.add_argument("--depths", type=int, nargs="+", default=None, help="default: the run's chosen depth")
    args = p.parse_args()
    quiet()
    from crossrank import CrossEncoder
    from crossrank.fit.evaluate import test_lists

    collection, split, first, size = inputs(args.out)
    if args.model is None:
        train, train_dir = stage(args.out, "train")
        args.model = train_dir / "model"
        args.depths = args.depths or [int(train.get("rerank_k", size["rerank_k"]))]
    depths = sorted(args.depths or [int(size["rerank_k"])])
    run = first["runs"][first["chosen"]]
    model = CrossEncoder(str(args.model))
    model.max_length = int(size["max_length"])
    scored = {}
    for part in ("dev", "test"):
        lists = test_lists(collection, run, split[part], depths[-1])
        scored[part] = (lists, cached_logits(model, collection, lists, args.model / f"joint-{part}-{depths[-1]}.npz"))
    records = []
    for depth in depths:
        by_part = {}
        for part, (lists, logits) in scored.items():
            cut = [{**x, "documents": x["documents"][:depth], "first": x["first"][:depth]} for x in lists]
            by_part[part] = curves(cut, [v[:depth] for v in logits], first["runs"], collection["qrels"], depth)
        records.append(report(args, first, by_part, depth, len(split["dev"]), len(split["test"])))
    with open(RESULTS / "fit-fusion-joint.jsonl", "a", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def report(args: Any, first: Mapping[str, Any], by_part: Mapping[str, Any], depth: int, dev_queries: int,
           test_queries: int) -> dict[str, Any]:
    """Print one depth's table; return its JSON row."""
    dev, test = by_part["dev"], by_part["test"]
    hybrid = float(first["hybrid_weight"])
    picks = {b: choose(dev[b], "plateau") for b in SHARES}
    share = max(SHARES, key=lambda b: (float(dev[b][picks[b]].mean()), -abs(b - hybrid)))
    retriever = float(test[FIT][1.0].mean())  # the hybrid's own order of the list
    fit_w = choose(dev[FIT], "plateau")
    rows = [{"b": b, "w": picks[b], "dev": float(dev[b][picks[b]].mean()), "test": float(test[b][picks[b]].mean()),
             "dev_first": float(dev[b][1.0].mean()), "test_first": float(test[b][1.0].mean()),
             "test_reranker": float(test[b][0.0].mean())} for b in SHARES]
    print(f"\ndepth {depth}; fit's hybrid BM25 weight {hybrid}; test: the hybrid alone {retriever:.4f}, reranker alone "
          f"{rows[0]['test_reranker']:.4f}; fit's fusion: w {fit_w:.2f}, dev {float(dev[FIT][fit_w].mean()):.4f} "
          f"(hybrid {float(dev[FIT][1.0].mean()):.4f}), test {float(test[FIT][fit_w].mean()):.4f} "
          f"({float(test[FIT][fit_w].mean()) - retriever:+.4f})")
    print("| BM25 share b | w (dev plateau) | dev first stage | dev fused | test first stage | test fused | "
          "test fused - hybrid |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        mark = " (dev's pick)" if r["b"] == share else " (fit's)" if r["b"] == hybrid else ""
        print(f"| {r['b']:.1f}{mark} | {r['w']:.2f} | {r['dev_first']:.4f} | {r['dev']:.4f} | {r['test_first']:.4f} | "
              f"{r['test']:.4f} | {r['test'] - retriever:+.4f} |")
    return {"name": args.name or args.out.name, "model": str(args.model), "depth": depth, "hybrid_weight": hybrid,
            "pick": {"b": share, "w": picks[share]}, "rows": rows, "test_hybrid": retriever,
            "fit": {"w": fit_w, "dev": float(dev[FIT][fit_w].mean()), "test": float(test[FIT][fit_w].mean())},
            "dev_queries": dev_queries, "test_queries": test_queries}


if __name__ == "__main__":
    main()
