"""MRPC quality: fine-tune all-MiniLM-L6-v2 as a paraphrase classifier, report accuracy/F1/AP on test.

    flock /tmp/crossrank-heavy.lock python bench/bench_mrpc.py [--epochs 1]

Recipe: BinaryCrossEntropyLoss on the 0/1 paraphrase label, each training pair also added with its
sentences swapped. MRPC has no dev split here, so a seeded 10 % of the train rows is held out as dev;
one evaluation per epoch there (ClassificationEvaluator, average precision) keeps the best checkpoint.
ClassificationEvaluator on the 1,725 test pairs then reports accuracy, F1, precision and recall at
their best thresholds and average precision. Writes ``bench/results/mrpc.md``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet  # noqa: E402
from _train_helpers import (  # noqa: E402
    add_training_flags,
    base_model,
    dev_curve,
    fit,
    read_jsonl,
    save,
    set_threads,
    shared_file,
    timed,
)

DEV, TEST = "mrpc-dev", "mrpc-test"
METRICS = ["accuracy", "f1", "precision", "recall", "average_precision"]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_flags(parser, epochs=1, lr=4e-5, batch_size=16, max_length=128)
    parser.add_argument("--dev-fraction", type=float, default=0.1, help="share of train rows held out as dev")
    return parser.parse_args(argv)


def split_dev(rows: list[dict[str, Any]], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, dev): a seeded ``fraction`` of each label's rows (at least 1 of each) becomes dev, so the
    dev split always holds both classes (the classification metrics need them)."""
    rng = random.Random(seed)
    dev: set[int] = set()
    for label in sorted({int(r["label"]) for r in rows}):
        members = [i for i, r in enumerate(rows) if int(r["label"]) == label]
        rng.shuffle(members)
        dev.update(members[: max(1, round(fraction * len(members)))])
    return [r for i, r in enumerate(rows) if i not in dev], [r for i, r in enumerate(rows) if i in dev]


def train_dataset(rows: list[dict[str, Any]]) -> Any:
    """Columns sentence1, sentence2, label; every pair in both sentence orders."""
    import datasets

    first = [r["sentence1"] for r in rows]
    second = [r["sentence2"] for r in rows]
    labels = [float(r["label"]) for r in rows]
    return datasets.Dataset.from_dict({"sentence1": first + second, "sentence2": second + first,
                                       "label": labels + labels})


def classification(rows: list[dict[str, Any]], name: str) -> Any:
    from crossrank.evaluation import ClassificationEvaluator

    pairs = [(r["sentence1"], r["sentence2"]) for r in rows]
    return ClassificationEvaluator(pairs, [int(r["label"]) for r in rows], name=name, batch_size=64,
                                   show_progress_bar=False, write_csv=False)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Train, keep the best dev checkpoint, score the test split, write the table; returns the metrics."""
    args = parse(argv)
    quiet()
    set_threads(args.threads)
    all_train = read_jsonl(shared_file("mrpc", "train.jsonl"), args.limit)
    train_rows, dev_rows = split_dev(all_train, args.dev_fraction, args.seed)
    test_rows = read_jsonl(shared_file("mrpc", "test.jsonl"), args.limit)
    train = train_dataset(train_rows)
    model = base_model(args.max_length, args.seed)
    dev, test = classification(dev_rows, DEV), classification(test_rows, TEST)
    before = test(model)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.output_dir or tmp
        history, seconds = timed(lambda: fit(model, train, None, dev, args, out))
    metrics = test(model)
    table = "| model | " + " | ".join(METRICS) + " |\n|---|" + "---|" * len(METRICS) + "\n"
    for label, values in (("untrained head (start)", before), ("fine-tuned (crossrank)", metrics)):
        table += f"| {label} | " + " | ".join(f"{values[f'{TEST}_{m}']:.4f}" for m in METRICS) + " |\n"
    positives = sum(int(r["label"]) for r in test_rows)
    table += (f"\nDev average precision by step: {dev_curve(history, dev.primary_metric)}\n\n"
              f"{len(train)} training pairs ({len(train_rows)} MRPC train rows, both sentence orders; "
              f"{len(dev_rows)} rows held out as dev), BCE, {args.epochs:g} epochs, batch {args.batch_size}, "
              f"lr {args.lr:g}, warm-up {args.warmup_ratio:g}, max_length {args.max_length}, fp32 CPU, "
              f"{seconds / 60:.1f} training minutes; test = {len(test_rows)} pairs ({positives} paraphrases). "
              "Accuracy, F1, precision and recall are at the thresholds that maximise accuracy and F1 on test, "
              "as ClassificationEvaluator defines them.\n")
    print(table)
    save("mrpc", "bench_mrpc.py", argv, table, args.results_dir)
    return metrics


if __name__ == "__main__":
    main()
