"""``crossrank evaluate MODEL --data FILE --evaluator …``: run one evaluator, print a table, write JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crossrank.cli import CLIError
from crossrank.cli.backend import add_backend_arguments, backend_kwargs
from crossrank.evaluation._table import metrics_table

EVALUATORS = ("reranking", "classification", "correlation", "beir")
LABEL_COLUMNS = ("label", "labels", "score", "scores")
QUERY_COLUMNS = ("query", "question", "anchor", "sentence1", "premise", "text1")
DOCUMENT_COLUMNS = ("document", "passage", "answer", "sentence", "sentence2", "hypothesis", "text2")


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


def _pick(columns: Sequence[str], preferred: Sequence[str], taken: set[str]) -> str | None:
    return next((c for c in preferred if c in columns and c not in taken), None)


def text_columns(columns: Sequence[str], requested: str | None, string_columns: Sequence[str]) -> tuple[str, str]:
    """The (query, document) text columns: ``--columns`` if given, else known names, else the first strings."""
    if requested:
        names = [c.strip() for c in requested.split(",")]
        missing = [c for c in names if c not in columns]
        if len(names) != 2 or missing:
            raise CLIError(f"--columns needs two existing columns QUERY,DOCUMENT; got {requested!r}; "
                           f"the data has {list(columns)}.")
        return names[0], names[1]
    first = _pick(columns, QUERY_COLUMNS, set())
    second = _pick(columns, DOCUMENT_COLUMNS, {first} if first else set())
    fallback = [c for c in string_columns if c not in LABEL_COLUMNS and not c.lower().endswith("id")]
    first = first or next((c for c in fallback if c != second), None)
    second = second or next((c for c in fallback if c != first), None)
    if not first or not second:
        raise CLIError(f"could not find two text columns in {list(columns)}; pass --columns QUERY,DOCUMENT.")
    return first, second


def label_column(columns: Sequence[str], requested: str | None) -> str:
    """The gold label column: ``--label-column`` or the first of label/labels/score/scores."""
    name = requested or _pick(columns, LABEL_COLUMNS, set())
    if not name or name not in columns:
        raise CLIError(f"no label column in {list(columns)}: expected one of {list(LABEL_COLUMNS)}; "
                       "pass --label-column NAME.")
    return name


def load_rows(path: str) -> Any:
    """Load a data file as a ``datasets.Dataset``."""
    try:
        from crossrank.data.io import load_dataset_file
    except ImportError:  # pragma: no cover - data.io ships with crossrank
        import datasets

        return datasets.load_dataset("json", data_files=path, split="train")
    return load_dataset_file(path)


def reranking_samples(data: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Samples from a file: rows with ``query``/``positive``/``negative|documents``, or labeled pairs grouped."""
    columns = data.column_names
    if "positive" in columns and ("negative" in columns or "documents" in columns):
        keep = ["query", "positive", "negative" if "negative" in columns else "documents"]
        return [{k: row[k] for k in keep} for row in data]
    string_columns = [c for c, f in data.features.items() if getattr(f, "dtype", "") in ("string", "large_string")]
    query_col, doc_col = text_columns(columns, args.columns, string_columns)
    label_col = label_column(columns, args.label_column)
    grouped: dict[str, dict[str, Any]] = {}
    for query, doc, label in zip(data[query_col], data[doc_col], data[label_col]):
        sample = grouped.setdefault(query, {"query": query, "positive": [], "negative": []})
        sample["positive" if float(label) > 0 else "negative"].append(doc)
    return list(grouped.values())


def build_evaluator(args: argparse.Namespace) -> Any:
    """Create the evaluator named by ``--evaluator`` from ``--data``."""
    from crossrank import evaluation as ev

    common = {"name": args.name, "batch_size": args.batch_size, "write_csv": False}
    if args.evaluator == "beir":
        data = ev.load_beir_folder(args.data, split=args.split, queries_file=args.queries_file,
                                   qrels_file=args.qrels_file)
        return ev.BEIREvaluator([data], rerank_k=args.rerank_k, at_k=args.at_k, ndcg_gains=args.ndcg_gains,
                                name=args.name or "BEIR", batch_size=args.batch_size, write_csv=False)
    if not Path(args.data).exists():
        raise CLIError(f"data file {args.data!r} does not exist; pass a JSONL/CSV/Parquet file.")
    data = load_rows(args.data)
    if args.evaluator == "reranking":
        return ev.RerankingEvaluator(reranking_samples(data, args), at_k=args.at_k, **common)
    string_columns = [c for c, f in data.features.items() if getattr(f, "dtype", "") in ("string", "large_string")]
    first, second = text_columns(data.column_names, args.columns, string_columns)
    pairs = list(zip(data[first], data[second]))
    labels = data[label_column(data.column_names, args.label_column)]
    if args.evaluator == "classification":
        return ev.ClassificationEvaluator(pairs, labels, **common)
    return ev.CorrelationEvaluator(pairs, labels, **common)


def run(args: argparse.Namespace) -> int:
    """Load the model and the data, evaluate, print the table and write ``--out``."""
    from crossrank.model import CrossEncoder

    evaluator = build_evaluator(args)
    model = CrossEncoder(args.model, max_length=args.max_length, **backend_kwargs(args))
    metrics = evaluator(model)
    print(metrics_table(metrics))
    print(f"primary metric: {evaluator.primary_metric} = {metrics[evaluator.primary_metric]:.4f}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"evaluator": args.evaluator, "model": str(args.model), "data": str(args.data),
                   "primary_metric": evaluator.primary_metric, "metrics": metrics}
        out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0
