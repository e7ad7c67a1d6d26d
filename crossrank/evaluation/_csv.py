"""Append one row of results to a CSV file under an output folder (header written once)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path


def append_csv_row(output_path: str | Path, file_name: str, headers: Sequence[str], row: Sequence[object]) -> Path:
    """Append ``row`` to ``output_path/file_name``, creating the folder and the header when needed.

    Args:
        output_path: Folder for the CSV file (created if missing).
        file_name: Name of the CSV file.
        headers: Column titles, written only when the file is new.
        row: The values of this evaluation, as many as ``headers``.

    Returns:
        The path of the CSV file.
    """
    if len(headers) != len(row):
        raise ValueError(f"CSV row has {len(row)} values but the header has {len(headers)} columns.")
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    is_new = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if is_new:
            writer.writerow(list(headers))
        writer.writerow(list(row))
    return path
