"""``crossrank evaluate MODEL --data FILE --evaluator …``: run one evaluator, print a table, write JSON."""

from __future__ import annotations

import argparse

from crossrank.cli.backend import add_backend_arguments, backend_kwargs
from crossrank.evaluation._table import metrics_table
from crossrank.pipeline.evaluate import EVALUATORS, EvaluateOptions, evaluate, write_metrics


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``evaluate`` sub-command."""
    p = sub.add_parser("evaluate", help="evaluate a reranker on a data file or BEIR folder")
    p.add_argument("model", help="model folder or Hub id")
    p.add_argument("--data", required=True, help="JSONL/CSV/Parquet file, or a BEIR folder for --evaluator beir")
    p.add_argument("--evaluator", required=True, choices=EVALUATORS)
    p.add_argument("--name", default="", help="evaluator name: prefix of the metric keys")
    p.add_argument("--out", help="write the metrics as JSON to this file")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=None)
    add_backend_arguments(p)
    p.add_argument("--columns", help="comma-separated text columns to use: QUERY,DOCUMENT (default: by name)")
    p.add_argument("--label-column", help="gold label/score column (default: label|labels|score|scores)")
    p.add_argument("--at-k", type=int, default=10, help="cut-off for MRR and NDCG")
    p.add_argument("--split", default="test", help="BEIR qrels split")
    p.add_argument("--rerank-k", type=int, default=100, help="BEIR: first-stage documents to rerank")
    p.add_argument("--ndcg-gains", choices=("binary", "graded"), default="binary", help="BEIR NDCG gains")
    p.add_argument("--queries-file", help="BEIR: queries file inside the folder")
    p.add_argument("--qrels-file", help="BEIR: qrels file inside the folder")


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table and the primary metric, write ``--out``."""
    options = EvaluateOptions(
        evaluator=args.evaluator, data=args.data, name=args.name, batch_size=args.batch_size, columns=args.columns,
        label_column=args.label_column, at_k=args.at_k, split=args.split, rerank_k=args.rerank_k,
        ndcg_gains=args.ndcg_gains, queries_file=args.queries_file, qrels_file=args.qrels_file,
    )
    if args.out:  # before any work: a bad --out must not cost the evaluation
        from pathlib import Path

        from crossrank.storage.preflight import check_writable

        check_writable(Path(args.out).parent, what="folder of --out")
    evaluator, metrics = evaluate(args.model, options, max_length=args.max_length, **backend_kwargs(args))
    print(metrics_table(metrics))
    print(f"primary metric: {evaluator.primary_metric} = {metrics[evaluator.primary_metric]:.4f}")
    if args.out:
        write_metrics(args.out, options, args.model, evaluator.primary_metric, metrics)
    return 0
