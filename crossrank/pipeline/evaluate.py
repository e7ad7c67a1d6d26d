"""``crossrank evaluate``: an evaluator from a data file (or BEIR folder), run on a saved reranker.

Column rules for a data file: the text columns are ``columns`` (``"QUERY,DOCUMENT"``) when given, else
chosen by ``data.columns.resolve_roles`` (the rule of every reader: known names, position only when no name
matches, ambiguity an error); the label is ``label_column`` or the first of ``data.columns.LABEL_COLUMNS``,
and its values are checked like training labels. Reranking groups labelled pairs per query (label > 0 is
relevant) unless the file already holds ``query``/``positive``/``negative|documents`` rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from crossrank.data.columns import LABEL_COLUMNS
from crossrank.storage.atomic import atomic_file_write

EvaluatorKind = Literal["reranking", "classification", "correlation", "beir"]
EVALUATORS: tuple[str, ...] = ("reranking", "classification", "correlation", "beir")


@dataclass
class EvaluateOptions:
    """What ``crossrank evaluate`` was asked for (its flags, one field each)."""

    evaluator: EvaluatorKind
    data: str
    name: str = ""
    batch_size: int = 32
    columns: str | None = None
    label_column: str | None = None
    at_k: int = 10
    split: str = "test"
    rerank_k: int = 100
    ndcg_gains: Literal["binary", "graded"] = "binary"
    queries_file: str | None = None
    qrels_file: str | None = None


def _pick(columns: Sequence[str], preferred: Sequence[str], taken: set[str]) -> str | None:
    return next((c for c in preferred if c in columns and c not in taken), None)


def text_columns(columns: Sequence[str], requested: str | None, label: str | None = None) -> tuple[str, str]:
    """The (query, document) text columns: ``requested`` if given, else the rule of ``data.columns.resolve_roles``
    (known names first, position only when no name matches; ambiguity is an error)."""
    from crossrank.data.columns import resolve_roles

    if requested:
        names = [c.strip() for c in requested.split(",")]
        missing = [c for c in names if c not in columns]
        if len(names) != 2 or missing:
            raise ValueError(f"--columns needs two existing columns QUERY,DOCUMENT; got {requested!r}; "
                             f"the data has {list(columns)}.")
        return names[0], names[1]
    roles = resolve_roles([c for c in columns if c != label], ("query", "document"),
                          fix="pass --columns QUERY,DOCUMENT.")
    return roles["query"], roles["document"]


def label_column(columns: Sequence[str], requested: str | None) -> str:
    """The gold label column: ``requested`` or the first of label/labels/score/scores."""
    name = requested or _pick(columns, LABEL_COLUMNS, set())
    if not name or name not in columns:
        raise ValueError(f"no label column in {list(columns)}: expected one of {list(LABEL_COLUMNS)}; "
                         "pass --label-column NAME.")
    return name


def labeled_columns(data: Any, options: EvaluateOptions) -> tuple[str, str, str]:
    """(query, document, label) columns of a labelled file, its labels checked like training labels."""
    from crossrank.data.columns import check_label_values

    label = label_column(data.column_names, options.label_column)
    query, document = text_columns(data.column_names, options.columns, label)
    check_label_values(data[label], label)
    return query, document, label


def reranking_samples(data: Any, options: EvaluateOptions) -> list[dict[str, Any]]:
    """Samples from a file: rows with ``query``/``positive``/``negative|documents``, or labelled pairs grouped."""
    from crossrank.data.grouping import group_labeled_pairs

    columns = data.column_names
    if "positive" in columns and ("negative" in columns or "documents" in columns):
        keep = ["query", "positive", "negative" if "negative" in columns else "documents"]
        return [{k: row[k] for k in keep} for row in data]
    return group_labeled_pairs(data, labeled_columns(data, options))


def build_evaluator(options: EvaluateOptions, num_labels: int | None = None) -> Any:
    """The evaluator ``options.evaluator`` names, on ``options.data`` (``num_labels``: the model's outputs,
    which decide a classification evaluator's metrics).

    Raises:
        FileNotFoundError: when the data file or folder does not exist.
        ValueError: on columns that cannot be found.
    """
    from crossrank import evaluation as ev
    from crossrank.data.io import load_dataset_file

    common = {"name": options.name, "batch_size": options.batch_size, "write_csv": False}
    if options.evaluator == "beir":
        data = ev.load_beir_folder(options.data, split=options.split, queries_file=options.queries_file,
                                   qrels_file=options.qrels_file)
        return ev.BEIREvaluator([data], rerank_k=options.rerank_k, at_k=options.at_k, ndcg_gains=options.ndcg_gains,
                                name=options.name or "BEIR", batch_size=options.batch_size, write_csv=False)
    if not Path(options.data).exists():
        raise FileNotFoundError(f"data file {options.data!r} does not exist; pass a JSONL/CSV/Parquet file.")
    data = load_dataset_file(options.data)
    if options.evaluator == "reranking":
        return ev.RerankingEvaluator(reranking_samples(data, options), at_k=options.at_k, **common)
    first, second, label = labeled_columns(data, options)
    pairs = list(zip(data[first], data[second]))
    labels = data[label]
    if options.evaluator == "classification":
        return ev.ClassificationEvaluator(pairs, labels, num_labels=num_labels, **common)
    return ev.CorrelationEvaluator(pairs, labels, **common)


def evaluate(model_path: str, options: EvaluateOptions, max_length: int | None = None,
             **model_kwargs: Any) -> tuple[Any, dict[str, float]]:
    """Build the evaluator (before loading the model, so data errors come first), load, evaluate.

    ``model_kwargs`` go to ``CrossEncoder`` (e.g. ``backend="onnx", file_name=...``).

    Returns:
        ``(evaluator, metrics)``.
    """
    from crossrank.model import CrossEncoder

    evaluator = build_evaluator(options)
    model = CrossEncoder(model_path, max_length=max_length, **model_kwargs)
    if options.evaluator == "classification":
        evaluator = build_evaluator(options, num_labels=model.num_labels)
    return evaluator, evaluator(model)


def write_metrics(path: str | Path, options: EvaluateOptions, model_path: str, primary_metric: str,
                  metrics: dict[str, float]) -> Path:
    """Write the metrics as JSON (atomically): evaluator, model, data, primary metric, metrics."""
    payload = {"evaluator": options.evaluator, "model": str(model_path), "data": str(options.data),
               "primary_metric": primary_metric, "metrics": metrics}
    text = json.dumps(payload, indent=2) + "\n"
    return atomic_file_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
