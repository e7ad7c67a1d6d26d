"""BEIR-format retrieval folders: the one loader behind the BEIR evaluator and the mining samples.

A folder holds a corpus (``corpus.jsonl`` or ``corpus.jsonl.gz``), queries (``queries.jsonl``, or per
split ``queries_{split}.jsonl`` / SciFact's ``claims_{split}.jsonl``) and qrels (``qrels/{split}.tsv``,
``qrels_{split}.tsv`` or ``qrels.tsv``). Rows carry an id (``_id``, else ``id`` or ``doc_id``) and a
``text`` (queries may use ``claim``); a corpus ``title`` is put before the text. Qrels are
``query-id<TAB>corpus-id<TAB>score`` with an optional header, or TREC's four columns; a grade above 0 is
relevant (``data.columns.is_positive``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossrank.data.tables import read_table

ID_COLUMNS = ("_id", "id", "doc_id")
TEXT_COLUMNS = ("text", "claim")


@dataclass
class BEIRData:
    """One retrieval dataset held in memory.

    Attributes:
        name: Short name used in metric keys (``"SciFact"``).
        corpus: Document id -> text.
        queries: Query id -> text.
        qrels: Query id -> {document id: relevance grade}.
    """

    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, float]] = field(default_factory=dict)


def _first_existing(folder: Path, candidates: Sequence[str], what: str) -> Path:
    for candidate in candidates:
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(
        f"no {what} file in {folder}: looked for {', '.join(candidates)}. Pass the file name explicitly."
    )


def _column(table: dict[str, list[Any]], names: Sequence[str], path: Path, what: str) -> list[Any]:
    for name in names:
        if name in table:
            return table[name]
    raise ValueError(f"{path}: no {what} column; expected one of {list(names)}, found {list(table)}.")


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    """Read a qrels TSV (header ``query-id corpus-id score`` or a TREC 4-column file without header)."""
    qrels: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if row]
    if rows and not is_number(rows[0][-1]):
        rows = rows[1:]  # header
    for number, row in enumerate(rows, start=1):
        if len(row) == 4:  # TREC: qid 0 docid grade
            row = [row[0], row[2], row[3]]
        if len(row) != 3 or not is_number(row[2]):
            raise ValueError(
                f"{path}, row {number}: expected 'query-id<TAB>corpus-id<TAB>score'; got {row!r}."
            )
        qrels.setdefault(row[0], {})[row[1]] = float(row[2])
    return qrels


def is_number(text: str) -> bool:
    """Whether ``text`` parses as a float (a qrels grade)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_qrels(data: BEIRData) -> None:
    """Raise when the qrels name documents or queries that the dataset does not have."""
    unknown_docs = sorted({d for judged in data.qrels.values() for d in judged if d not in data.corpus})
    if unknown_docs:
        raise ValueError(
            f"{data.name}: the qrels name {len(unknown_docs)} documents that are not in the corpus "
            f"(e.g. {unknown_docs[:3]}); check that the qrels and the corpus come from the same dataset."
        )
    unknown_queries = sorted(q for q in data.qrels if q not in data.queries)
    if unknown_queries:
        raise ValueError(
            f"{data.name}: the qrels name {len(unknown_queries)} queries that are not in the queries file "
            f"(e.g. {unknown_queries[:3]}); pass the queries file of the same split."
        )


def _texts(path: Path, include_title: bool = False) -> dict[str, str]:
    table = read_table(path)
    ids = _column(table, ID_COLUMNS, path, "id")
    texts = _column(table, TEXT_COLUMNS, path, "text")
    titles = table.get("title") if include_title else None
    out = {}
    for index, (row_id, text) in enumerate(zip(ids, texts)):
        title = str(titles[index] or "").strip() if titles is not None else ""
        out[str(row_id)] = f"{title} {text}".strip() if title else str(text)
    return out


def load_beir_folder(
    path: str | os.PathLike[str],
    split: str = "test",
    name: str | None = None,
    queries_file: str | None = None,
    qrels_file: str | None = None,
    include_title: bool = True,
) -> BEIRData:
    """Load a BEIR-format folder (see the module docstring for the files it looks for).

    Args:
        path: The folder.
        split: Which qrels (and per-split queries) file to read.
        name: Name used in metric keys (default: the folder name).
        queries_file: Queries file inside the folder, if not one of the usual names.
        qrels_file: Qrels file inside the folder, if not one of the usual names.
        include_title: Prepend a document's title to its text.

    Returns:
        The dataset, with every qrels document and query checked against the corpus and the queries.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"BEIR folder {str(folder)!r} does not exist; pass a folder with corpus and qrels.")
    corpus_path = _first_existing(folder, ["corpus.jsonl", "corpus.jsonl.gz"], "corpus")
    query_names = [queries_file] if queries_file else ["queries.jsonl", f"queries_{split}.jsonl",
                                                      f"claims_{split}.jsonl"]
    queries_path = _first_existing(folder, query_names, "queries")
    qrels_names = [qrels_file] if qrels_file else [f"qrels/{split}.tsv", f"qrels_{split}.tsv", "qrels.tsv"]
    qrels_path = _first_existing(folder, qrels_names, "qrels")
    data = BEIRData(name or folder.name, _texts(corpus_path, include_title), _texts(queries_path),
                    read_qrels(qrels_path))
    check_qrels(data)
    return data
