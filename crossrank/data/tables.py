"""Row files on disk: the one reader and the one writer of every table crossrank reads or writes.

Formats follow the suffix: ``.jsonl`` (JSON Lines), ``.json`` (a JSON array of objects, an object of
equal-length column lists, or JSON Lines), ``.csv`` / ``.tsv``, ``.parquet`` and ``.arrow``. JSON and
CSV/TSV files may be gzipped (``corpus.jsonl.gz``). Both directions go through ``pyarrow.Table``, so the
readers of training data (``data.io``), mining inputs, BEIR folders and evaluation files all see the same
columns and types. CSV/TSV list or dict cells are written JSON-encoded (and read back as that text).
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

READ_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow")
WRITE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
COMPRESSIBLE = (".jsonl", ".json", ".csv", ".tsv")
DELIMITERS = {".csv": ",", ".tsv": "\t"}
_SEPARATOR_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


def table_suffix(path: Path) -> str:
    """The format suffix of ``path`` (``.gz`` looked through), e.g. ``.jsonl`` for ``corpus.jsonl.gz``.

    Raises:
        ValueError: when the suffix names no readable format.
    """
    name = path.name.lower()
    gz = name.endswith(".gz")
    suffix = Path(name.removesuffix(".gz")).suffix
    if suffix not in READ_SUFFIXES or (gz and suffix not in COMPRESSIBLE):
        raise ValueError(
            f"Unsupported file type {path.name!r}; cannot read {path}: expected one of "
            f"{', '.join(READ_SUFFIXES)} (JSON and CSV/TSV may be .gz), or a saved datasets folder."
        )
    return suffix


def _open_text(path: Path) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _json_lines(path: Path, lines: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"cannot parse {path} as JSONL: line {number}: {err.msg} (column {err.colno}).") from None
        if not isinstance(row, dict):
            raise ValueError(f"cannot parse {path} as JSONL: line {number} holds a {type(row).__name__}; "
                             "each line must be one JSON object.")
        rows.append(row)
    return rows


def _json_document(path: Path, value: Any) -> list[dict[str, Any]] | dict[str, list[Any]]:
    """Rows of a parsed ``.json`` document: an array of objects, or an object of columns (or of one row)."""
    if isinstance(value, list):
        for index, row in enumerate(value):
            if not isinstance(row, dict):
                raise ValueError(f"cannot parse {path} as JSON: item {index} of the array holds a "
                                 f"{type(row).__name__}; expected an array of objects (one per row).")
        return value
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        lengths = {len(v) for v in value.values()}
        if len(lengths) != 1:
            sizes = {k: len(v) for k, v in value.items()}
            raise ValueError(f"cannot parse {path} as JSON columns: the column lists differ in length {sizes}.")
        return value
    if isinstance(value, dict):
        return [value]
    raise ValueError(f"cannot parse {path} as JSON: it holds a {type(value).__name__}; expected an array of "
                     "objects or an object of column lists.")


def _read_json(path: Path, suffix: str) -> list[dict[str, Any]] | dict[str, list[Any]]:
    with _open_text(path) as handle:
        text = handle.read()
    if suffix == ".json":
        try:
            return _json_document(path, json.loads(text))
        except json.JSONDecodeError as err:
            if text.lstrip().startswith("["):
                raise ValueError(f"cannot parse {path} as JSON: line {err.lineno}: {err.msg} "
                                 f"(column {err.colno}).") from None
    return _json_lines(path, text.splitlines())


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Column lists from rows, every key of every row kept (first-seen order; missing cells are None)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def _to_arrow(path: Path, columns: dict[str, list[Any]]) -> pa.Table:
    arrays = {}
    for name, values in columns.items():
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            kinds = sorted({type(v).__name__ for v in values if v is not None})
            raise ValueError(f"cannot read {path}: column {name!r} mixes value types {kinds} ({err}); give each "
                             "column one type.") from None
    return pa.table(arrays)


def _check_separator(path: Path, suffix: str) -> None:
    with _open_text(path) as handle:
        header = handle.readline()
    expected = DELIMITERS[suffix]
    if expected in header:
        return
    found = next((sep for sep in _SEPARATOR_NAMES if sep != expected and sep in header), None)
    if found is None:
        return
    want, seen = _SEPARATOR_NAMES[expected], _SEPARATOR_NAMES[found]
    fix = {",": "rename it to .csv", "\t": "rename it to .tsv"}.get(found, f"re-save it {want}-separated")
    raise ValueError(
        f"{path} is named {suffix}, so {want}-separated, but its header line has no {want} and "
        f"{header.count(found)} {seen} separator(s) {found!r}; {fix}."
    )


def _read_delimited(path: Path, suffix: str) -> pa.Table:
    import pyarrow.csv as pc

    _check_separator(path, suffix)
    parse = pc.ParseOptions(delimiter=DELIMITERS[suffix], newlines_in_values=True)
    return pc.read_csv(path, parse_options=parse)


def read_arrow(path: str | Path) -> pa.Table:
    """Read one table file into a ``pyarrow.Table`` (the single reader behind every loader).

    Raises:
        FileNotFoundError: when ``path`` is not a file.
        ValueError: one line naming the file and what is wrong: an unsupported suffix, a malformed JSON line
            (with its 1-based line number), a CSV/TSV whose separator does not match its name, no rows.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist; pass a path to a JSONL/CSV/Parquet file.")
    suffix = table_suffix(path)
    kind = suffix[1:].upper()
    try:
        if suffix in (".jsonl", ".json"):
            parsed = _read_json(path, suffix)
            columns = _columns(parsed) if isinstance(parsed, list) else parsed
            if not columns:
                raise ValueError(f"{path} holds no rows; give at least one JSON object.")
            return _to_arrow(path, columns)
        if suffix in DELIMITERS:
            return _read_delimited(path, suffix)
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import datasets

        return datasets.Dataset.from_file(str(path)).data.table
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, EOFError) as err:
        raise ValueError(f"cannot parse {path} as {kind}: {str(err).splitlines()[0]}") from None


def read_table(path: str | Path) -> dict[str, list[Any]]:
    """``{column: values}`` of a table file (see :func:`read_arrow`)."""
    return read_arrow(path).to_pydict()


def read_rows(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The first ``limit`` rows (all when None) of a table file as dicts (see :func:`read_arrow`)."""
    table = read_arrow(path)
    return (table if limit is None else table.slice(0, limit)).to_pylist()


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def _write_rows(rows: Iterator[dict[str, Any]], columns: list[str], tmp: Path, suffix: str) -> None:
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        if suffix == ".jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif suffix == ".json":
            handle.write("[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n")
        else:
            writer = csv.writer(handle, delimiter=DELIMITERS[suffix])
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row[c]) for c in columns])


def writable_suffix(path: Path) -> str:
    """The lower-case suffix of ``path`` when crossrank can write it.

    Raises:
        ValueError: on a suffix that is not one of :data:`WRITE_SUFFIXES`.
    """
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise ValueError(f"cannot write {path}: expected a suffix among {', '.join(WRITE_SUFFIXES)} "
                         "or none (a datasets folder).")
    return suffix


def write_arrow(table: pa.Table, path: Path, suffix: str | None = None) -> None:
    """Write ``table`` to ``path`` in the format of ``suffix`` (default: ``path``'s own), not atomically.

    ``data.io.save_dataset_file`` is the atomic entry point; this is what it calls on the temporary file.
    """
    suffix = suffix or writable_suffix(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
        return
    _write_rows(iter(table.to_pylist()), table.column_names, path, suffix)
