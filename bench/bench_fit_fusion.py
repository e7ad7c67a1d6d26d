"""Fusion rules compared on a finished ``crossrank fit`` run: the weight each rule picks on dev, and its test result.

    python bench/bench_fit_fusion.py --out /tmp/bench-fit-cranfield [--results NAME]

It reads the run's validate, split, first-stage and train stages from ``--out/stages`` and the trained model
from the train stage, scores the dev and test queries' realistic lists (the chosen first stage's top
``rerank_k``, as ``fit`` reranks them) once, and for each per-query normalisation (``zscore``, ``minmax``,
``rrf``: 1 / (60 + rank)) and each rule (``plateau``: fit's rule, the median of the weights tied with the best
within one paired standard error; ``best``: the best dev weight; ``fixed-0.5``: no tuning) prints the weight
the rule picks on dev and the test NDCG@10 at that weight. Test never chooses anything; its whole curve is
printed for reading only. Appends one JSON row per run to ``bench/results/fit-fusion.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, quiet  # noqa: E402

WEIGHTS = [round(0.05 * i, 2) for i in range(21)]
RULES = ("plateau", "best", "fixed-0.5")


def stage(out: Path, name: str) -> tuple[Any, Path]:
    found = sorted((out / "stages").glob(f"*-{name}"))
    if not found:
        sys.exit(f"{out}/stages has no {name} stage; run crossrank fit --out {out} first.")
    return json.loads((found[0] / "output.json").read_text()), found[0]


def inputs(out: Path) -> tuple[Any, Any, Any, Any]:
    """The finished run's validate, split, first-stage and size payloads."""
    return tuple(stage(out, name)[0] for name in ("validate", "split", "first_stage", "size"))  # type: ignore[return-value]


def rrf(scores: np.ndarray) -> np.ndarray:
    ranks = np.empty(scores.size)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, scores.size + 1)
    return 1.0 / (60.0 + ranks)


def normaliser(name: str) -> Callable[[np.ndarray], np.ndarray]:
    from crossrank.inference.fusion import normalize_scores

    return rrf if name == "rrf" else (lambda s: normalize_scores(s, name))  # type: ignore[arg-type]


def per_query(lists: Sequence[Mapping[str, Any]], logits: Sequence[np.ndarray], qrels: Mapping[str, Any],
              norm: str, depth: int) -> dict[float, np.ndarray]:
    """NDCG@10 of every query (full basis: missed relevant documents count) at each fusion weight."""
    from crossrank.fit.metrics import AT_K, query_metrics

    scale = normaliser(norm)
    out: dict[float, list[float]] = {w: [] for w in WEIGHTS}
    for item, scores in zip(lists, logits):
        n = len(item["documents"])
        first, rerank = np.asarray(item["first"], np.float64), np.asarray(scores[:n], np.float64)
        for w in WEIGHTS:
            fused = (1 - w) * scale(rerank) + w * scale(first) if n else rerank
            out[w].append(query_metrics(item["documents"], fused, qrels[item["query_id"]], depth)[f"ndcg@{AT_K}"])
    return {w: np.asarray(v) for w, v in out.items()}


def choose(values: Mapping[float, np.ndarray], rule: str) -> float:
    if rule == "fixed-0.5":
        return 0.5
    means = {w: float(v.mean()) for w, v in values.items()}
    best = max(means, key=lambda w: (means[w], -w))
    if rule == "best":
        return best
    tied = sorted(w for w, v in values.items()
                  if (v - values[best]).mean() + (v - values[best]).std(ddof=1) / np.sqrt(v.size) >= 0)
    return tied[(len(tied) - 1) // 2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", default=None, help="row name (default: the --out folder's name)")
    args = p.parse_args()
    quiet()
    from crossrank import CrossEncoder
    from crossrank.fit.evaluate import score_lists, test_lists

    collection, split, first, size = inputs(args.out)
    train, train_dir = stage(args.out, "train")
    run, depth = first["runs"][first["chosen"]], int(train.get("rerank_k", size["rerank_k"]))
    model = CrossEncoder(str(train_dir / "model"))
    model.max_length = int(size["max_length"])
    curves: dict[str, Any] = {}
    for part in ("dev", "test"):
        lists = [x for x in test_lists(collection, run, split[part], depth)]
        logits = score_lists(model, collection, [{**x, "missed": []} for x in lists])
        curves[part] = {norm: per_query(lists, logits, collection["qrels"], norm, depth)
                        for norm in ("zscore", "minmax", "rrf")}
    rows = []
    for norm in ("zscore", "minmax", "rrf"):
        dev, test = curves["dev"][norm], curves["test"][norm]
        for rule in RULES:
            w = choose(dev, rule)
            rows.append({"normalize": norm, "rule": rule, "weight": w, "dev": float(dev[w].mean()),
                         "test": float(test[w].mean())})
    first_test = float(curves["test"]["zscore"][1.0].mean())
    print(f"depth {depth}; test first stage alone {first_test:.4f}, reranker alone "
          f"{float(curves['test']['zscore'][0.0].mean()):.4f}")
    print("| normalize | rule | dev weight | dev NDCG@10 | test NDCG@10 | test - first stage |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['normalize']} | {r['rule']} | {r['weight']:.2f} | {r['dev']:.4f} | {r['test']:.4f} | "
              f"{r['test'] - first_test:+.4f} |")
    test_curve = {str(w): round(float(v.mean()), 4) for w, v in curves["test"]["zscore"].items()}
    dev_curve = {str(w): round(float(v.mean()), 4) for w, v in curves["dev"]["zscore"].items()}
    print("dev curve (zscore):", dev_curve)
    print("test curve (zscore, for reading only):", test_curve)
    record = {"name": args.name or args.out.name, "depth": depth, "rows": rows, "dev_curve_zscore": dev_curve,
              "test_curve_zscore": test_curve, "dev_queries": len(split["dev"]), "test_queries": len(split["test"])}
    with open(RESULTS / "fit-fusion.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
