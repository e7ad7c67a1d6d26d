"""Training speed per loss: samples/s of crossrank vs the reference, BCE on pairs and LambdaLoss on lists.

    flock /tmp/crossrank-heavy.lock python bench/bench_losses.py [--pairs 1024] [--lists 128]

Both libraries start from the same checkpoint (all-MiniLM-L6-v2 + a seeded one-label head), train one
epoch on the same rows in fp32 on CPU with the same arguments (lr 2e-5, seed 42, no evaluation or
checkpoints, max_length 256) and the loss's defaults:

- **BCE**: WikiQA train (question, sentence, label) pairs, batch 16, ``BinaryCrossEntropyLoss``;
- **LambdaLoss**: WikiQA train questions with a positive as (question, [sentences], [labels]) lists
  (at most 10 sentences each), batch 8 lists, ``LambdaLoss`` (NDCGLoss2++ weighting).

A sample is a row (a pair, or a whole list). crossrank runs with its defaults, which include length
bucketing (each batch scored in up to 8 length-sorted sub-batches padded to their own longest pair).
Prints samples/s and the crossrank / reference ratio per loss and writes bench/results/losses.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402

COMMON = dict(num_train_epochs=1, learning_rate=2e-5, save_strategy="no", logging_steps=50, report_to="none",
              use_cpu=True, seed=42, disable_tqdm=True, dataloader_pin_memory=False)
MAX_DOCS = 10


def pair_data(n: int) -> Any:
    import datasets

    rows = wikiqa_rows("train")[:n]
    return datasets.Dataset.from_dict({"question": [r["question"] for r in rows],
                                       "sentence": [r["sentence"] for r in rows],
                                       "label": [float(r["label"]) for r in rows]})


def list_data(n: int) -> Any:
    import datasets

    lists: dict[str, dict[str, Any]] = {}
    for r in wikiqa_rows("train"):
        item = lists.setdefault(r["qid"], {"question": r["question"], "sentences": [], "labels": []})
        if len(item["sentences"]) < MAX_DOCS:
            item["sentences"].append(r["sentence"])
            item["labels"].append(float(r["label"]))
    kept = [x for x in lists.values() if any(x["labels"])][:n]
    return datasets.Dataset.from_list(kept)


def train_ours(folder: Path, data: Any, out: str, loss_name: str, batch: int) -> float:
    from crossrank import CrossEncoder, Trainer, TrainingArguments, losses

    model = CrossEncoder(folder, max_length=256, device="cpu")
    loss = getattr(losses, loss_name)(model)
    args = TrainingArguments(output_dir=out, per_device_train_batch_size=batch, **COMMON)
    trainer = Trainer(model, args, train_dataset=data, loss=loss)
    with Timer() as t:
        trainer.train()
    return t.seconds


def train_reference(folder: Path, data: Any, out: str, loss_name: str, batch: int) -> float:
    import sentence_transformers as st
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder import losses as st_losses

    model = st.CrossEncoder(str(folder), max_length=256, device="cpu")
    loss = getattr(st_losses, loss_name)(model)
    args = CrossEncoderTrainingArguments(output_dir=out, per_device_train_batch_size=batch, **COMMON)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss)
    with Timer() as t:
        trainer.train()
    return t.seconds


def compare(folder: Path, data: Any, loss_name: str, batch: int, repeats: int) -> dict[str, float]:
    """Best samples/s of each library over ``repeats`` alternating runs (the machine may be shared)."""
    runs: dict[str, Callable[..., float]] = {"reference": train_reference, "crossrank": train_ours}
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(repeats):
            for name, fn in runs.items():
                seconds = fn(folder, data, f"{tmp}/{name}{attempt}", loss_name, batch)
                rates[name] = max(rates.get(name, 0.0), len(data) / seconds)
                print(f"{loss_name:>22} {name:>9} run {attempt + 1}: {len(data) / seconds:.2f} samples/s "
                      f"({seconds:.1f} s)", flush=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1024, help="WikiQA train pairs for BCE")
    parser.add_argument("--lists", type=int, default=128, help="WikiQA train lists for LambdaLoss")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per library; the best counts")
    opts = parser.parse_args()
    quiet()
    folder = start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start")
    setups = [("BinaryCrossEntropyLoss", pair_data(opts.pairs), 16, "pairs"),
              ("LambdaLoss", list_data(opts.lists), 8, "lists")]
    lines = ["| loss | data | batch | crossrank samples/s | reference samples/s | ratio |", "|---|---|---|---|---|---|"]
    for loss_name, data, batch, unit in setups:
        rate = compare(folder, data, loss_name, batch, opts.repeats)
        ratio = rate["crossrank"] / rate["reference"]
        print(f"**{loss_name}: crossrank / reference = {ratio:.2f}x**", flush=True)
        lines.append(f"| {loss_name} | {len(data)} WikiQA {unit} | {batch} | {rate['crossrank']:.2f} | "
                     f"{rate['reference']:.2f} | **{ratio:.2f}x** |")
    table = "\n".join(lines) + ("\n\nOne epoch each, fp32, CPU, max_length 256, lr 2e-5, same start checkpoint and "
                                "rows; the reference is sentence-transformers' CrossEncoderTrainer with its loss; "
                                f"best of {opts.repeats} alternating runs per library.")
    print(table)
    write_result("losses", f"python bench/bench_losses.py --pairs {opts.pairs} --lists {opts.lists} "
                           f"--repeats {opts.repeats}", table)


if __name__ == "__main__":
    main()
