"""Training speed: samples/s of one epoch of BCE on WikiQA train pairs, crossrank vs the reference.

    python bench/bench_training.py [--pairs 2000]

Both start from the same checkpoint (all-MiniLM-L6-v2 + a seeded head), batch 16, max_length 256, fp32,
lr 2e-5, the same shuffled rows, no evaluation or checkpointing; the reference runs its
CrossEncoderTrainer with its BinaryCrossEntropyLoss. Prints samples/s and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402

COMMON = dict(num_train_epochs=1, per_device_train_batch_size=16, learning_rate=2e-5, save_strategy="no",
              logging_steps=50, report_to="none", use_cpu=True, seed=42, disable_tqdm=True,
              dataloader_pin_memory=False)


def train_ours(folder: Path, data: object, out: str) -> float:
    from crossrank import CrossEncoder, Trainer, TrainingArguments

    model = CrossEncoder(folder, max_length=256, device="cpu")
    trainer = Trainer(model, TrainingArguments(output_dir=out, keep_freed_memory=True, **COMMON), train_dataset=data)
    with Timer() as t:
        trainer.train()
    return t.seconds


def train_reference(folder: Path, data: object, out: str) -> float:
    import sentence_transformers as st
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    model = st.CrossEncoder(str(folder), max_length=256, device="cpu")
    args = CrossEncoderTrainingArguments(output_dir=out, **COMMON)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=BinaryCrossEntropyLoss(model))
    with Timer() as t:
        trainer.train()
    return t.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=2000)
    args = parser.parse_args()
    quiet()
    import datasets

    rows = wikiqa_rows("train")[: args.pairs]
    data = datasets.Dataset.from_dict({"question": [r["question"] for r in rows],
                                       "sentence": [r["sentence"] for r in rows],
                                       "label": [float(r["label"]) for r in rows]})
    folder = start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start")
    with tempfile.TemporaryDirectory() as tmp:
        seconds = {"reference": train_reference(folder, data, f"{tmp}/ref"),
                   "crossrank": train_ours(folder, data, f"{tmp}/ours")}
    rate = {k: len(data) / v for k, v in seconds.items()}
    table = ("| library | samples/s |\n|---|---|\n"
             f"| crossrank | {rate['crossrank']:.1f} |\n| sentence-transformers | {rate['reference']:.1f} |\n"
             f"\n**ratio crossrank / reference: {rate['crossrank'] / rate['reference']:.2f}×** "
             f"({len(data)} WikiQA train pairs, 1 epoch BCE, batch 16, max_length 256, fp32)")
    print(table)
    write_result("training", f"python bench/bench_training.py --pairs {args.pairs}", table)


if __name__ == "__main__":
    main()
