"""Where ``crossrank fit`` reads files: thin calls into the library's one reader of each kind.

Row files go through the table reader (:func:`crossrank.data.tables.read_table`; saved ``datasets`` folders
through :func:`crossrank.data.io.load_dataset_file`), qrels and BEIR folders through :mod:`crossrank.data.beir`.
Nothing here parses a format itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crossrank.data.beir import is_number

QRELS_SPLITS = ("train", "test", "dev")


def read_rows(path: str | Path) -> dict[str, list[Any]]:
    """``{column: values}`` of a rows file (JSONL/JSON/CSV/TSV/Parquet/Arrow, ``.jsonl.gz``, a datasets folder)."""
    p = Path(path).expanduser()
    if p.is_dir():
        from crossrank.data.io import load_dataset_file

        return load_dataset_file(p).to_dict()
    from crossrank.data.tables import read_table

    return read_table(p)


def is_qrels_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a qrels TSV: tab-separated, 3 or 4 fields, the last one a number."""
    p = Path(path)
    if p.suffix.lower() not in (".tsv", ".txt", ".qrels") or not p.is_file():
        return False
    with p.open(encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for _, line in zip(range(3), handle) if line.strip()]
    body = lines[1:] if lines and not is_number(lines[0][-1]) else lines
    return bool(body) and all(len(row) in (3, 4) and is_number(row[-1]) for row in body)


def read_qrels(path: str | Path) -> dict[str, dict[str, float]]:
    """``{query id: {document id: grade}}`` of a qrels TSV."""
    from crossrank.data.beir import read_qrels as beir_qrels

    return beir_qrels(Path(path))


def load_beir(path: str | Path, prefer: tuple[str, ...] = QRELS_SPLITS) -> Any:
    """A BEIR folder as :class:`crossrank.evaluation.beir.BEIRData`, qrels from the first split found.

    ``prefer`` orders the qrels looked for: ``qrels/{split}.tsv``, ``qrels_{split}.tsv``, then ``qrels.tsv``.
    """
    from crossrank.data.beir import load_beir_folder

    errors = []
    for split in prefer:
        try:
            return load_beir_folder(path, split=split)
        except FileNotFoundError as err:
            errors.append(str(err))
    raise FileNotFoundError(errors[-1])
