"""Load and save datasets: JSONL/JSON, CSV/TSV, Parquet, Arrow files and saved ``datasets`` folders."""

from __future__ import annotations

import os
from pathlib import Path

import datasets
import pyarrow as pa

from crossrank.storage.atomic import atomic_dir_write, atomic_file_write

SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow")


def _read_table(path: Path) -> pa.Table:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        import pyarrow.json as pj

        return pj.read_json(path)
    if suffix in (".csv", ".tsv"):
        import pyarrow.csv as pc

        parse = pc.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
        return pc.read_csv(path, parse_options=parse)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    return datasets.Dataset.from_file(str(path)).data.table


def load_dataset_file(path: str | os.PathLike[str], split: str | None = None) -> datasets.Dataset:
    """Load one file or a saved ``datasets`` folder into a ``datasets.Dataset``.

    Args:
        path: ``*.jsonl``, ``*.json``, ``*.csv``, ``*.tsv``, ``*.parquet``, ``*.arrow``, a folder written
            by ``Dataset.save_to_disk``/``DatasetDict.save_to_disk``, or (with a network) a Hub dataset id.
        split: which split of a ``DatasetDict`` folder or Hub dataset to take.
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
        if p.suffix.lower() not in SUFFIXES:
            raise ValueError(f"cannot read {p}: expected one of {', '.join(SUFFIXES)}; found {p.suffix!r}.")
        try:
            table = _read_table(p)
        except (pa.ArrowInvalid, OSError) as err:
            raise ValueError(f"cannot parse {p} as {p.suffix[1:].upper()}: {err}") from err
        return datasets.Dataset(table)
    if str(path).count("/") == 1 and not str(path).startswith((".", "/")) and not p.suffix:
        return datasets.load_dataset(str(path), split=split or "train")
    raise FileNotFoundError(f"data file {str(path)!r} does not exist; pass a path to a JSONL/CSV/Parquet file.")


def save_dataset_file(dataset: datasets.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` atomically; the format follows the suffix (no suffix: a ``datasets`` folder)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == "":
        return atomic_dir_write(p, lambda tmp: dataset.save_to_disk(str(tmp)), kind="dataset")
    writers = {
        ".jsonl": lambda tmp: dataset.to_json(str(tmp), lines=True, force_ascii=False),
        ".json": lambda tmp: dataset.to_json(str(tmp), lines=True, force_ascii=False),
        ".csv": lambda tmp: dataset.to_csv(str(tmp), index=False),
        ".tsv": lambda tmp: dataset.to_csv(str(tmp), index=False, sep="\t"),
        ".parquet": lambda tmp: dataset.to_parquet(str(tmp)),
    }
    if suffix not in writers:
        raise ValueError(f"cannot write {p}: expected a suffix among {', '.join(writers)} or none (a folder).")
    return atomic_file_write(p, writers[suffix])
