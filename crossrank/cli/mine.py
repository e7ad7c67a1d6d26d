"""``crossrank mine PAIRS --model M --out FILE``: mine hard negatives from (query, answer) pairs.

Reads JSONL / JSON / CSV / TSV / Parquet, writes JSONL / JSON / CSV / TSV / Parquet (chosen by the ``--out``
extension; list cells are JSON-encoded in CSV). ``--label-column`` keeps only rows whose label is positive,
so a labelled file such as WikiQA (question, sentence, label) can be mined directly. The mining flags are
generated from ``MiningConfig`` (and the model/corpus flags from ``pipeline.mine.MineSources``): the same
names, types and defaults as the ``mine:`` section of a train YAML.

Example:
    crossrank mine wikiqa/train.jsonl --model models/minilm --out mined.jsonl \\
        --anchor-column question --positive-column sentence --label-column label --num-negatives 5
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from crossrank.cli import CLIError
from crossrank.mining.config import MiningConfig
from crossrank.options.flags import add_flags, given_values
from crossrank.pipeline.mine import MineSources

logger = logging.getLogger(__name__)
CLI_ONLY = ("verbose",)  # --quiet instead (crossrank's own -v/--verbose is the debug switch)


def add_parser(subparsers: Any) -> None:
    """Register ``mine`` and its options."""
    p = subparsers.add_parser("mine", help="mine hard negatives for (query, answer) pairs")
    p.add_argument("pairs", help="input pairs: .jsonl, .json, .csv, .tsv or .parquet")
    p.add_argument("--out", required=True,
                   help="output file: .jsonl, .json, .csv, .tsv or .parquet (no suffix: a datasets folder)")
    p.add_argument("--label-column", help="keep only rows with label > 0 in this column, then drop it")
    p.add_argument("--quiet", action="store_true", help="do not log the statistics table")
    add_flags(p.add_argument_group("models and texts"), MineSources)
    add_flags(p.add_argument_group("mining (MiningConfig)"), MiningConfig, exclude=CLI_ONLY)


def run(args: argparse.Namespace) -> int:
    """Mine and write the output file; returns 0."""
    from crossrank.data.tables import writable_suffix
    from crossrank.pipeline.mine import SOURCE_KEYS, mine_file

    try:
        if Path(args.out).suffix:  # no suffix: a saved datasets folder
            writable_suffix(Path(args.out))
    except ValueError as err:
        raise CLIError(f"--out {args.out!r}: {err}") from None
    options = given_values(args, [name for name in MiningConfig.__dataclass_fields__ if name not in CLI_ONLY])
    if args.quiet:
        options["verbose"] = False
    mined = mine_file(args.pairs, args.out, given_values(args, SOURCE_KEYS), options, args.label_column)
    logger.info("Wrote %d rows (%s) to %s", len(mined), ", ".join(mined.column_names), args.out)
    return 0
