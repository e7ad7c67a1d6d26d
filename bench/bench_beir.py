"""BEIR-style quality: BM25 top-k vs a crossrank reranker on SciFact and Cranfield (NDCG@10 per dataset + mean).

    flock /tmp/crossrank-heavy.lock python bench/bench_beir.py [--max-queries 100] [--rerank-k 20] [--model DIR]

The reranker: unless ``--model`` names a trained folder, all-MiniLM-L6-v2 is fine-tuned here as a
cross-encoder on the SciFact *train* claims with BinaryCrossEntropyLoss: each claim's cited abstracts
(``qrels_train.tsv``) are positives, and its ``--negatives`` best BM25 hits that are not cited are
negatives. Evaluation: SciFact dev claims with ``qrels_dev.tsv`` (BEIR's SciFact test split) and all of
Cranfield (codes 1-4 relevant, binary gains), BM25 (``bm25s``) over the whole corpus, the first
``--max-queries`` judged queries, their BM25 top ``--rerank-k`` reordered by the reranker. Both columns
are computed on exactly the same candidate lists (relevant documents that BM25 missed count for neither),
so the difference is the reranker's alone. Writes ``bench/results/beir.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet  # noqa: E402
from _train_helpers import SHARED, add_training_flags, base_model, fit, save, set_threads, timed  # noqa: E402

DATASETS = ("scifact", "cranfield")
METRICS = ("ndcg@10", "mrr@10", "map")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_flags(parser, epochs=1, lr=4e-5, batch_size=16, max_length=128)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--max-queries", type=int, default=100, help="first N judged queries per dataset")
    parser.add_argument("--rerank-k", type=int, default=20, help="BM25 depth that the reranker reorders")
    parser.add_argument("--eval-max-length", type=int, default=256, help="max_length when scoring")
    parser.add_argument("--negatives", type=int, default=2, help="BM25 negatives per training claim")
    parser.add_argument("--model", default=None, help="score with this trained folder instead of training")
    parser.add_argument("--save-model", default=None, help="save the reranker trained here to this folder")
    return parser.parse_args(argv)


def load(name: str, split: str = "dev") -> Any:
    """SciFact (claims of ``split`` as queries) or Cranfield as :class:`BEIRData`."""
    from crossrank.evaluation.beir import load_beir_folder

    if name == "scifact":
        return load_beir_folder(SHARED / "scifact", name="SciFact", queries_file=f"claims_{split}.jsonl",
                                qrels_file=f"qrels_{split}.tsv")
    # Cranfield's abstracts already start with the title.
    return load_beir_folder(SHARED / "cranfield", name="Cranfield", qrels_file="qrels.tsv", include_title=False)


def first_queries(data: Any, limit: int | None) -> Any:
    """The same dataset with only its first ``limit`` judged queries that have a relevant document."""
    from crossrank.evaluation.beir import BEIRData

    judged = [q for q, grades in data.qrels.items() if any(g > 0 for g in grades.values())][:limit]
    return BEIRData(data.name, data.corpus, data.queries, {q: data.qrels[q] for q in judged})


def mined_pairs(data: Any, negatives: int, depth: int = 30) -> Any:
    """(claim, abstract, label) rows: cited abstracts as 1, the best uncited BM25 hits as 0."""
    import datasets

    from crossrank.evaluation.beir import bm25_search

    query_ids = [q for q, grades in data.qrels.items() if any(g > 0 for g in grades.values())]
    run = bm25_search(data, query_ids, depth)
    rows: dict[str, list[Any]] = {"query": [], "document": [], "label": []}
    for query_id in query_ids:
        cited = {d for d, g in data.qrels[query_id].items() if g > 0}
        hard = [d for d in run[query_id] if d not in cited][:negatives]
        for doc_id, label in [(d, 1.0) for d in sorted(cited)] + [(d, 0.0) for d in hard]:
            rows["query"].append(data.queries[query_id])
            rows["document"].append(data.corpus[doc_id])
            rows["label"].append(label)
    return datasets.Dataset.from_dict(rows)


def reranker(args: argparse.Namespace) -> tuple[Any, str]:
    """The model to evaluate and a sentence saying where it came from."""
    from crossrank import CrossEncoder

    if args.model:
        return CrossEncoder(args.model, max_length=args.eval_max_length, device="cpu"), f"`{args.model}`"
    train = mined_pairs(first_queries(load("scifact", "train"), args.limit), args.negatives)
    model = base_model(args.max_length, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        _, seconds = timed(lambda: fit(model, train, None, None, args, args.output_dir or tmp))
    positives = int(sum(train["label"]))
    how = (f"all-MiniLM-L6-v2 fine-tuned here on SciFact train claims: {len(train)} pairs ({positives} cited "
           f"abstracts, {len(train) - positives} BM25 negatives from each claim's top 30, up to "
           f"{args.negatives} per claim), BCE, {args.epochs:g} epoch(s), batch {args.batch_size}, lr {args.lr:g}, "
           f"warm-up {args.warmup_ratio:g}, training max_length {args.max_length}, {seconds / 60:.1f} minutes")
    if args.save_model:
        model.save_pretrained(args.save_model)
        how += f", saved to `{args.save_model}`"
    model.max_length = args.eval_max_length
    return model, how


def bm25_same_lists(evaluator: Any) -> dict[str, float]:
    """The BM25 order's metrics on the reranker's candidate lists (documents arrive in BM25 order)."""
    scored = [item for item in evaluator.lists if any(g > 0 for g in item.gains)]
    order = np.concatenate([np.arange(len(item.documents), 0, -1, dtype=np.float64) for item in scored]
                           or [np.zeros(0)])
    return evaluator.compute(order)


def evaluate(model: Any, datasets: list[Any], args: argparse.Namespace) -> tuple[dict[str, float], dict, float]:
    """Reranked metrics (BEIREvaluator keys), BM25 metrics per dataset on the same lists, scoring seconds."""
    from crossrank.evaluation import BEIREvaluator

    beir = BEIREvaluator(datasets, rerank_k=args.rerank_k, always_rerank_positives=False, batch_size=32,
                         write_csv=False)
    reranked, seconds = timed(lambda: beir(model))
    bm25 = {sub.name.removesuffix(f"_R{args.rerank_k}"): bm25_same_lists(sub) for sub in beir.evaluators}
    return reranked, bm25, seconds


def table(reranked: dict[str, float], bm25: dict[str, dict[str, float]], datasets: list[Any], k: int) -> str:
    """Rows per dataset and their mean: BM25 vs reranked NDCG@10, MRR@10, MAP."""
    head = "| dataset | queries | " + " | ".join(f"BM25 {m.upper()} | reranked {m.upper()}" for m in METRICS)
    lines = [head + " |", "|---|---|" + "---|" * (2 * len(METRICS))]
    means: dict[str, list[float]] = {}
    for data in datasets:
        cells = []
        for metric in METRICS:
            base, ours = bm25[data.name][f"{data.name}_R{k}_{metric}"], reranked[f"{data.name}_R{k}_{metric}"]
            means.setdefault(f"base {metric}", []).append(base)
            means.setdefault(metric, []).append(ours)
            cells += [f"{base:.4f}", f"**{ours:.4f}**" if ours > base else f"{ours:.4f}"]
        lines.append(f"| {data.name} | {len(data.qrels)} | " + " | ".join(cells) + " |")
    mean_cells = [f"{np.mean(means[key]):.4f}" for metric in METRICS for key in (f"base {metric}", metric)]
    lines.append("| mean | | " + " | ".join(mean_cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Train (or load) the reranker, rerank BM25's top-k on each dataset, write the table; returns metrics."""
    args = parse(argv)
    quiet()
    set_threads(args.threads)
    datasets = [first_queries(load(name), args.max_queries) for name in args.datasets]
    model, how = reranker(args)
    reranked, bm25, seconds = evaluate(model, datasets, args)
    pairs = sum(min(args.rerank_k, len(d.corpus)) for d in datasets for _ in d.qrels)
    text = table(reranked, bm25, datasets, args.rerank_k) + (
        f"\n\nSubset: the first {args.max_queries} judged queries of each dataset (SciFact dev claims = BEIR's "
        f"SciFact test split; Cranfield codes 1-4 relevant), BM25 (bm25s, English stopwords) over the full "
        f"corpus, top {args.rerank_k} reranked; binary gains; both columns on the same candidate lists "
        f"(relevant documents outside BM25's top {args.rerank_k} count for neither). Scoring: about {pairs} "
        f"pairs at max_length {args.eval_max_length} in {seconds / 60:.1f} minutes.\n\nReranker: {how}.\n")
    print(text)
    save("beir", "bench_beir.py", argv, text, args.results_dir)
    metrics = dict(reranked)
    for values in bm25.values():
        metrics.update({f"bm25_{key}": value for key, value in values.items()})
    return metrics


if __name__ == "__main__":
    main()
