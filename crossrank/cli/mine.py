"""``crossrank mine PAIRS --model M --out FILE``: mine hard negatives from (query, answer) pairs.

Reads JSONL / CSV / TSV / Parquet, writes JSONL / CSV / Parquet (chosen by the ``--out`` extension; list
cells are JSON-encoded in CSV). ``--label-column`` keeps only rows whose label is positive, so a labelled
file such as WikiQA (question, sentence, label) can be mined directly.

Example:
    crossrank mine wikiqa/train.jsonl --model models/minilm --out mined.jsonl \\
        --anchor-column question --positive-column sentence --label-column label --num-negatives 5
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path
from typing import Any

from crossrank.cli import CLIError

logger = logging.getLogger(__name__)
OUT_TYPES = (".jsonl", ".json", ".csv", ".parquet")


def add_parser(subparsers: Any) -> None:
    """Register ``mine`` and its options."""
    p = subparsers.add_parser("mine", help="mine hard negatives for (query, answer) pairs")
    p.add_argument("pairs", help="input pairs: .jsonl, .csv, .tsv or .parquet")
    p.add_argument("--model", required=True, help="embedding model folder (Sentence Transformers or HF encoder)")
    p.add_argument("--out", required=True, help="output file: .jsonl, .csv or .parquet")
    p.add_argument("--corpus", help="extra candidate documents (file); default: the positives")
    p.add_argument("--corpus-column", help="text column of --corpus (default: text, else the first)")
    p.add_argument("--anchor-column", help="query column (default: first)")
    p.add_argument("--positive-column", help="answer column (default: second)")
    p.add_argument("--label-column", help="keep only rows with label > 0 in this column, then drop it")
    p.add_argument("--cross-encoder", help="reranker folder used to rescore candidates")
    p.add_argument("--num-negatives", type=int, default=3)
    p.add_argument("--range-min", type=int, default=0)
    p.add_argument("--range-max", type=int)
    p.add_argument("--max-score", type=float)
    p.add_argument("--min-score", type=float)
    p.add_argument("--absolute-margin", type=float)
    p.add_argument("--relative-margin", type=float)
    p.add_argument("--sampling-strategy", choices=("top", "random"), default="top")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--output-format", default="triplet", help="triplet | n-tuple | labeled-pair | labeled-list")
    p.add_argument("--output-scores", action="store_true")
    p.add_argument("--include-positives", action="store_true")
    p.add_argument("--query-prompt")
    p.add_argument("--corpus-prompt")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--use-faiss", action="store_true")
    p.add_argument("--faiss-index", choices=("auto", "flat", "ivf", "hnsw"), default="auto")
    p.add_argument("--cache-folder")
    p.add_argument("--device")
    p.add_argument("--quiet", action="store_true", help="do not log the statistics table")


def _select_pairs(table: dict[str, list[Any]], args: argparse.Namespace) -> dict[str, list[Any]]:
    columns = list(table)
    if args.label_column:
        if args.label_column not in table:
            raise CLIError(f"--label-column {args.label_column!r} is not a column of {args.pairs}; found {columns}.")
        labels = table.pop(args.label_column)
        keep = [i for i, value in enumerate(labels) if float(value) > 0]
        table = {name: [values[i] for i in keep] for name, values in table.items()}
        columns = list(table)
    anchor = args.anchor_column or columns[0]
    positive = args.positive_column or (columns[1] if len(columns) > 1 else None)
    for flag, name in (("--anchor-column", anchor), ("--positive-column", positive)):
        if name not in table:
            raise CLIError(f"{flag} {name!r} is not a column of {args.pairs}; found {columns}.")
    assert positive is not None
    if not table[anchor]:
        raise CLIError(f"{args.pairs} has no (anchor, positive) rows" + (" with a positive label." if
                       args.label_column else "."))
    return {anchor: [str(x) for x in table[anchor]], positive: [str(x) for x in table[positive]]}


def write_table(dataset: Any, path: Path) -> None:
    """Write a ``datasets.Dataset`` as JSONL, CSV (list cells JSON-encoded) or Parquet, by extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(dataset.data.table, path)
        return
    columns = dataset.column_names
    with open(path, "w", encoding="utf-8", newline="") as handle:
        if suffix in (".jsonl", ".json"):
            for row in dataset:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in dataset:
            writer.writerow([json.dumps(row[c]) if isinstance(row[c], list) else row[c] for c in columns])


def run(args: argparse.Namespace) -> int:
    """Mine and write the output file; returns 0."""
    from datasets import Dataset

    from crossrank.mining.config import mine_from_config
    from crossrank.mining.eval_samples import read_table

    out = Path(args.out)
    if out.suffix.lower() not in OUT_TYPES:
        raise CLIError(f"--out {args.out!r} must end in one of {', '.join(OUT_TYPES)}.")
    if not Path(args.model).is_dir():
        raise CLIError(f"--model {args.model!r} is not a folder; pass a local embedding model folder.")
    pairs = _select_pairs(read_table(args.pairs), args)
    names = list(pairs)
    cfg: dict[str, Any] = {
        "model": args.model, "corpus": args.corpus, "corpus_column": args.corpus_column,
        "cross_encoder": args.cross_encoder, "device": args.device,
        "anchor_column_name": names[0], "positive_column_name": names[1],
        "num_negatives": args.num_negatives, "range_min": args.range_min, "range_max": args.range_max,
        "max_score": args.max_score, "min_score": args.min_score, "absolute_margin": args.absolute_margin,
        "relative_margin": args.relative_margin, "sampling_strategy": args.sampling_strategy, "seed": args.seed,
        "output_format": args.output_format, "output_scores": args.output_scores,
        "include_positives": args.include_positives, "query_prompt": args.query_prompt,
        "corpus_prompt": args.corpus_prompt, "batch_size": args.batch_size, "use_faiss": args.use_faiss,
        "faiss_index": args.faiss_index, "cache_folder": args.cache_folder, "verbose": not args.quiet,
        # the command line owns its process: heap trimming and concurrent CPU batches are on here
        "embedder": {"compact_memory": True, "cpu_workers": None},
    }
    mined = mine_from_config(cfg, Dataset.from_dict(pairs))
    write_table(mined, out)
    logger.info("Wrote %d rows (%s) to %s", len(mined), ", ".join(mined.column_names), out)
    return 0
