"""``crossrank train CONFIG.yaml [--key value ...]``: train, evaluate before/after, save (``pipeline.train``)."""

from __future__ import annotations

import argparse

from crossrank.cli.config import load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``train`` sub-command."""
    p = sub.add_parser("train", help="train a reranker from a YAML config",
                       description="Train a reranker. Overrides: --training.learning_rate 3e-5, --model path ...")
    p.add_argument("config", help="YAML file (see crossrank.pipeline.config)")
    p.add_argument("--resume-from-checkpoint", default=None, help="checkpoint folder, or 'true' for the latest")
    p.set_defaults(overrides=[])


def metrics_table(before: dict[str, float], after: dict[str, float]) -> str:
    """Before/after/change per metric; a metric measured only after training shows ``-`` before."""
    rows = [f"{'metric':<28}{'before':>10}{'after':>10}{'change':>10}"]
    for key, value in after.items():
        if key in before:
            rows.append(f"{key:<28}{before[key]:>10.4f}{value:>10.4f}{value - before[key]:>+10.4f}")
        else:
            rows.append(f"{key:<28}{'-':>10}{value:>10.4f}{'-':>10}")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    """Load the config, train, print where the model went and the before/after table."""
    from crossrank.pipeline.train import train

    result = train(load_config(args.config, list(args.overrides)), resume=args.resume_from_checkpoint)
    print(f"\nSaved the trained reranker to {result.output}")
    if result.after:
        print(metrics_table(result.before, result.after))
    if result.fusion_note:
        print(result.fusion_note)
    if result.warm_note:
        print(result.warm_note)
    return 0
