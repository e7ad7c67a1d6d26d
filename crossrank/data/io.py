"""Load and save ``datasets.Dataset`` objects: row files (``data.tables``), Arrow files and saved folders."""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from crossrank.data.tables import READ_SUFFIXES, read_arrow, writable_suffix, write_arrow
from crossrank.storage.atomic import atomic_dir_write, atomic_file_write

SUFFIXES = READ_SUFFIXES


def load_dataset_file(path: str | os.PathLike[str], split: str | None = None) -> datasets.Dataset:
    """Load one file or a saved ``datasets`` folder into a ``datasets.Dataset``.

    Args:
        path: ``*.jsonl``, ``*.json``, ``*.csv``, ``*.tsv`` (each optionally ``.gz``), ``*.parquet``,
            ``*.arrow``, a folder written by ``Dataset.save_to_disk``/``DatasetDict.save_to_disk``, or
            (with a network) a Hub dataset id.
        split: which split of a ``DatasetDict`` folder or Hub dataset to take.

    Raises:
        FileNotFoundError: when nothing exists at ``path``.
        ValueError: on an unreadable file (one line naming the file, see ``data.tables.read_arrow``) or a
            ``DatasetDict`` folder without ``split``.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        loaded = datasets.load_from_disk(str(p))
        if isinstance(loaded, datasets.DatasetDict):
            if split is None or split not in loaded:
                raise ValueError(f"{p} holds splits {list(loaded)}; pass split=<one of them>.")
            return loaded[split]
        return loaded
    if p.is_file():
        return datasets.Dataset(read_arrow(p))
    if str(path).count("/") == 1 and not str(path).startswith((".", "/")) and not p.suffix:
        return datasets.load_dataset(str(path), split=split or "train")
    raise FileNotFoundError(f"data file {str(path)!r} does not exist; pass a path to a JSONL/CSV/Parquet file.")


def save_dataset_file(dataset: datasets.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` atomically; the format follows the suffix (no suffix: a ``datasets`` folder).

    ``.jsonl`` writes JSON Lines, ``.json`` one JSON array, ``.csv``/``.tsv`` a header and one line per row
    (list cells JSON-encoded), ``.parquet`` Parquet.
    """
    p = Path(path)
    if p.suffix == "":
        return atomic_dir_write(p, lambda tmp: dataset.save_to_disk(str(tmp)), kind="dataset")
    suffix = writable_suffix(p)
    table = dataset.with_format("arrow")[:] if len(dataset) else dataset.data.table.slice(0, 0)
    return atomic_file_write(p, lambda tmp: write_arrow(table, tmp, suffix))
