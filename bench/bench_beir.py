"""BEIR-style quality: BM25 top-k vs a crossrank reranker on SciFact and Cranfield (NDCG@10 per dataset + mean).

    flock /tmp/crossrank-heavy.lock python bench/bench_beir.py [--max-queries 100] [--rerank-k 100] [--model DIR]

The reranker: unless ``--model`` names a trained folder, all-MiniLM-L6-v2 is fine-tuned here as a
cross-encoder on the SciFact *train* claims: each claim's cited abstracts (``qrels_train.tsv``) are
positives and its ``--negatives`` best uncited BM25 hits (from the top ``--depth``) negatives, one list per
claim for ListNetLoss (default) or labeled pairs for ``--loss bce``. The last ``--dev-claims`` train claims
are held out as a development split (their BM25 top ``--dev-k``): it picks the best epoch and the weight of
the BM25-score fusion (``BEIREvaluator.tune_fusion``), so no test claim is used for any choice.
Evaluation: SciFact dev claims with ``qrels_dev.tsv`` (BEIR's SciFact test split) and Cranfield (codes 1-4
relevant, binary gains), BM25 (``bm25s``) over the whole corpus, the first ``--max-queries`` judged
queries, their BM25 top ``--rerank-k`` reordered by the reranker, alone and fused with the BM25 score. All
columns are computed on exactly the same candidate lists (relevant documents that BM25 missed count for
none), so the differences are the reranker's alone. Writes ``bench/results/beir.md``.
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
from _train_helpers import (  # noqa: E402
    SHARED,
    add_training_flags,
    base_model,
    dev_curve,
    fit,
    save,
    set_threads,
    timed,
)

DATASETS = ("scifact", "cranfield")
METRICS = ("ndcg@10", "mrr@10", "map")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_flags(parser, epochs=2, lr=5e-5, batch_size=8, max_length=128)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--max-queries", type=int, default=100, help="first N judged queries per dataset")
    parser.add_argument("--rerank-k", type=int, default=100, help="BM25 depth that the reranker reorders")
    parser.add_argument("--eval-max-length", type=int, default=256, help="max_length when scoring")
    parser.add_argument("--loss", choices=["listnet", "bce"], default="listnet", help="lists per claim, or pairs")
    parser.add_argument("--negatives", type=int, default=7, help="BM25 negatives per training claim")
    parser.add_argument("--depth", type=int, default=50, help="BM25 depth the training negatives come from")
    parser.add_argument("--dev-claims", type=int, default=100, help="train claims held out as development split")
    parser.add_argument("--dev-k", type=int, default=20, help="BM25 depth reranked on the development split")
    parser.add_argument("--no-fusion", action="store_true", help="do not tune or report the BM25-score fusion")
    parser.add_argument("--model", default=None, help="score with this trained folder instead of training")
    parser.add_argument("--init", default=None, help="finetune this cross-encoder folder instead of a fresh head")
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


def split_claims(data: Any, dev_claims: int) -> tuple[Any, Any | None]:
    """The train claims without, and with only, their last ``dev_claims`` judged claims (None when 0)."""
    from crossrank.evaluation.beir import BEIRData

    judged = [q for q, grades in data.qrels.items() if any(g > 0 for g in grades.values())]
    held = judged[len(judged) - dev_claims:] if dev_claims > 0 else []
    train = [q for q in judged if q not in set(held)]
    if not train:
        sys.exit(f"--dev-claims {dev_claims} leaves no training claim out of {len(judged)}; lower it.")
    keep = lambda ids: BEIRData(data.name, data.corpus, data.queries, {q: data.qrels[q] for q in ids})  # noqa: E731
    return keep(train), keep(held) if held else None


def mined(data: Any, negatives: int, depth: int, lists: bool) -> Any:
    """Cited abstracts (1) and the best uncited BM25 hits (0) per claim: one list per claim, or pairs."""
    import datasets

    from crossrank.evaluation.beir import bm25_search

    query_ids = [q for q, grades in data.qrels.items() if any(g > 0 for g in grades.values())]
    run = bm25_search(data, query_ids, depth)
    rows: dict[str, list[Any]] = {"query": [], "document": [], "label": []}
    # an empty document (Cranfield has one, judged relevant to some queries) has no text to train on
    texts = {d for d, text in data.corpus.items() if text.strip()}
    for query_id in query_ids:
        cited = {d for d, g in data.qrels[query_id].items() if g > 0 and d in texts}
        if not cited:
            continue
        hard = [d for d in run[query_id] if d not in cited and d in texts][:negatives]
        docs = [data.corpus[d] for d in sorted(cited) + hard]
        labels = [1.0] * len(cited) + [0.0] * len(hard)
        if lists:
            rows["query"].append(data.queries[query_id])
            rows["document"].append(docs)
            rows["label"].append(labels)
        else:
            rows["query"] += [data.queries[query_id]] * len(docs)
            rows["document"] += docs
            rows["label"] += labels
    if lists:
        rows["labels"] = rows.pop("label")
    return datasets.Dataset.from_dict(rows)


def reranker(args: argparse.Namespace) -> tuple[Any, str]:
    """The model to evaluate and a sentence saying where it came from."""
    from crossrank import CrossEncoder

    train_claims, dev_claims = split_claims(first_queries(load("scifact", "train"), args.limit), args.dev_claims)
    dev = None if dev_claims is None else dev_evaluator(dev_claims, args.dev_k)
    if args.model:
        model = CrossEncoder(args.model, max_length=args.eval_max_length, device="cpu")
        return model, f"`{args.model}`" + tune(model, dev, args)
    lists = args.loss == "listnet"
    train = mined(train_claims, args.negatives, args.depth, lists)
    if args.init:
        model = CrossEncoder(args.init, max_length=args.max_length, device="cpu")
        start = f"the cross-encoder `{args.init}`"
    else:
        model = base_model(args.max_length, args.seed)
        start = "all-MiniLM-L6-v2 with a fresh head"
    loss = None
    if lists:
        from crossrank.losses import ListNetLoss

        loss = ListNetLoss(model)
    with tempfile.TemporaryDirectory() as tmp:
        history, seconds = timed(lambda: fit(model, train, loss, dev, args, args.output_dir or tmp))
    labels = [y for row in train["labels"] for y in row] if lists else train["label"]
    positives = int(sum(labels))
    unit = f"{len(train)} lists of" if lists else ""
    how = (f"{start}, fine-tuned here on {len(train_claims.qrels)} SciFact train claims: {unit} "
           f"{len(labels)} (claim, abstract) pairs ({positives} cited abstracts, {len(labels) - positives} uncited "
           f"BM25 hits from each claim's top {args.depth}, up to {args.negatives} per claim), "
           f"{'ListNetLoss' if lists else 'BCE'}, {args.epochs:g} epoch(s), batch {args.batch_size}, lr {args.lr:g}, "
           f"warm-up {args.warmup_ratio:g}, training max_length {args.max_length}, {seconds / 60:.1f} minutes")
    if dev is not None:
        curve = dev_curve(history, dev.primary_metric)
        how += f"; dev NDCG@10 by step on the {len(dev_claims.qrels)} held-out train claims (best kept): {curve}"
    model.max_length = args.eval_max_length
    how += tune(model, dev, args)
    if args.save_model:
        model.save_pretrained(args.save_model)
        how += f"; saved to `{args.save_model}`"
    return model, how


def dev_evaluator(claims: Any, dev_k: int) -> Any:
    """BM25 top ``dev_k`` of the held-out train claims, with BM25 scores kept for fusion tuning."""
    from crossrank.evaluation import BEIREvaluator

    return BEIREvaluator([claims], rerank_k=dev_k, always_rerank_positives=False, name="SciFactDev", batch_size=32,
                         write_csv=False)


def tune(model: Any, dev: Any | None, args: argparse.Namespace) -> str:
    """Choose and store the BM25 fusion weight on the development claims; a sentence saying so."""
    if dev is None or args.no_fusion:
        model.fusion = None
        return ""
    fusion, curve = dev.tune_fusion(model, metric="ndcg@10")
    model.fusion = fusion
    best = max(curve.values())
    return (f"; BM25 fusion weight {fusion.weight:.2f} chosen on the held-out claims' NDCG@10 "
            f"(plateau rule; reranker alone {curve[0.0]:.4f}, best {best:.4f}, BM25 alone {curve[1.0]:.4f})")


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
                         write_csv=False)  # BM25 scores ride along, so a model with a fusion gets fused_* keys
    reranked, seconds = timed(lambda: beir(model))
    bm25 = {sub.name.removesuffix(f"_R{args.rerank_k}"): bm25_same_lists(sub) for sub in beir.evaluators}
    return reranked, bm25, seconds


def table(reranked: dict[str, float], bm25: dict[str, dict[str, float]], datasets: list[Any], k: int) -> str:
    """Rows per dataset and their mean: BM25 vs reranked (and fused, when present) NDCG@10, MRR@10, MAP."""
    fused = any("_fused_" in key for key in reranked)
    kinds = ["reranked", "fused"] if fused else ["reranked"]
    head = "| dataset | queries | " + " | ".join(
        " | ".join([f"BM25 {m.upper()}", *(f"{kind} {m.upper()}" for kind in kinds)]) for m in METRICS)
    lines = [head + " |", "|---|---|" + "---|" * ((1 + len(kinds)) * len(METRICS))]
    means: dict[str, list[float]] = {}
    for data in datasets:
        cells = []
        for metric in METRICS:
            base = bm25[data.name][f"{data.name}_R{k}_{metric}"]
            means.setdefault(f"BM25 {metric}", []).append(base)
            cells.append(f"{base:.4f}")
            for kind in kinds:
                ours = reranked[f"{data.name}_R{k}_{'fused_' if kind == 'fused' else ''}{metric}"]
                means.setdefault(f"{kind} {metric}", []).append(ours)
                cells.append(f"**{ours:.4f}**" if ours > base else f"{ours:.4f}")
        lines.append(f"| {data.name} | {len(data.qrels)} | " + " | ".join(cells) + " |")
    mean_cells = [f"{np.mean(means[f'{kind} {metric}']):.4f}" for metric in METRICS for kind in ["BM25", *kinds]]
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
        f"(relevant documents outside BM25's top {args.rerank_k} count for none). Scoring: about {pairs} "
        f"pairs at max_length {args.eval_max_length} in {seconds / 60:.1f} minutes.\n\nReranker: {how}.\n")
    print(text)
    save("beir", "bench_beir.py", argv, text, args.results_dir)
    metrics = dict(reranked)
    for values in bm25.values():
        metrics.update({f"bm25_{key}": value for key, value in values.items()})
    return metrics


if __name__ == "__main__":
    main()
