"""A user's data as one retrieval collection: queries, a corpus and graded judgements (qrels).

PAIRS come as rows of (query, document[, label]) — documents as text or as ids into CORPUS — as a queries
file plus a qrels TSV, or as a BEIR folder; CORPUS as rows of (text[, _id][, title]). Everything becomes a
:class:`crossrank.evaluation.beir.BEIRData` (the library's in-memory collection) plus a :class:`LoadNotes`
record of what was detected and changed, so that fit can print and report it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossrank.fit import sources
from crossrank.fit.columns import detect_corpus_columns, detect_pair_columns


@dataclass
class LoadNotes:
    """What loading detected and changed (all of it is printed and reported)."""

    columns: list[str] = field(default_factory=list)
    added_documents: int = 0
    empty_documents: int = 0
    duplicate_ids: int = 0
    duplicate_rows: int = 0
    rows: int = 0


def corpus_from_rows(columns: dict[str, list[Any]], source: str, notes: LoadNotes) -> dict[str, str]:
    """``{document id: text}`` of a CORPUS rows file (title prepended; ids are row numbers without an id column)."""
    roles = detect_corpus_columns(columns, source)
    notes.columns.append(f"CORPUS {source}: {roles.describe()}")
    corpus: dict[str, str] = {}
    titles = columns[roles.title] if roles.title else [None] * len(columns[roles.text])
    ids = columns[roles.doc_id] if roles.doc_id else [str(i) for i in range(len(columns[roles.text]))]
    for doc_id, text, title in zip(ids, columns[roles.text], titles):
        if not isinstance(text, str) or not text.strip():
            notes.empty_documents += 1  # nothing to rank; counted and reported
            continue
        title = title.strip() if isinstance(title, str) else ""
        body = text.strip()
        notes.duplicate_ids += str(doc_id) in corpus
        corpus[str(doc_id)] = f"{title} {body}" if title and not body.startswith(title) else body
    return corpus


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _document_id(text: str, corpus: dict[str, str], by_text: dict[str, str], notes: LoadNotes) -> str:
    """The corpus id of a document given as text; a text the corpus lacks is added to it."""
    found = by_text.get(text)
    if found is None:
        found = f"pairs-{len(by_text)}"
        while found in corpus:
            found += "+"
        corpus[found], by_text[text] = text, found
        notes.added_documents += 1
    return found


def _add_row(qrels: dict[str, dict[str, float]], qid: str, doc_id: str, grade: float, notes: LoadNotes) -> None:
    judged = qrels.setdefault(qid, {})
    if doc_id in judged:
        notes.duplicate_rows += 1
        grade = max(grade, judged[doc_id])
    judged[doc_id] = grade


def _grade(value: Any, column: str | None, source: str) -> float:
    if value is None:
        return 1.0
    try:
        grade = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: label column {column!r} holds {value!r}; labels must be numbers (> 0 is "
                         "relevant). Map them to numbers first.") from None
    if grade != grade:
        raise ValueError(f"{source}: label column {column!r} holds NaN; labels must be numbers (> 0 is relevant).")
    return grade


def _query_ids(columns: dict[str, list[Any]], query: str, query_id: str | None) -> list[str]:
    if query_id is not None:
        return [str(v) for v in columns[query_id]]
    first: dict[str, str] = {}
    return [first.setdefault(text, f"q{len(first)}") for text in columns[query]]


def pairs_from_rows(columns: dict[str, list[Any]], source: str, corpus: dict[str, str], prefix: str,
                    notes: LoadNotes, qrels_file: str | None = None) -> tuple[dict[str, str], dict[str, dict]]:
    """Queries and qrels of a PAIRS rows file (documents given as text are added to ``corpus`` when missing)."""
    roles = detect_pair_columns(columns, source, with_qrels=qrels_file is not None)
    notes.columns.append(f"PAIRS {source}: {roles.describe()}" + (f", judgements from {qrels_file}" if qrels_file
                                                                  else ""))
    qids = _query_ids(columns, roles.query, roles.query_id)
    empty = [i for i, t in enumerate(columns[roles.query]) if not isinstance(t, str) or not t.strip()]
    if empty:
        raise ValueError(f"{source}: {len(empty)} rows have no query text in column {roles.query!r} (first: row "
                         f"{empty[0] + 1}); fill or drop them.")
    queries = {prefix + q: str(t).strip() for q, t in zip(qids, columns[roles.query])}
    qrels: dict[str, dict[str, float]] = {}
    if qrels_file is not None:
        for qid, judged in sources.read_qrels(qrels_file).items():
            for doc_id, grade in judged.items():
                _add_row(qrels, prefix + qid, doc_id, grade, notes)
        notes.rows += sum(len(v) for v in qrels.values())
        return queries, qrels
    by_text = {text: doc_id for doc_id, text in corpus.items()}
    labels = columns[roles.label] if roles.label else [None] * len(qids)
    for qid, docs, label in zip(qids, columns[roles.document], labels):  # type: ignore[index]
        docs, grades = _as_list(docs), _as_list(label)
        if len(grades) == 1 and len(docs) > 1:
            grades = grades * len(docs)
        for doc, grade in zip(docs, grades):
            if doc is None or (isinstance(doc, str) and not doc.strip()):
                continue
            doc_id = str(doc) if roles.document_is_id else _document_id(str(doc).strip(), corpus, by_text, notes)
            _add_row(qrels, prefix + qid, doc_id, _grade(grade, roles.label, source), notes)
            notes.rows += 1
    return queries, qrels


def load_pairs(paths: Sequence[str], corpus: dict[str, str], prefix: str, notes: LoadNotes) -> tuple[dict, dict]:
    """Queries and qrels from PAIRS paths: a rows file, a rows file + a qrels TSV, or a BEIR folder."""
    paths = [str(p) for p in paths]
    if len(paths) == 1 and Path(paths[0]).is_dir() and not (Path(paths[0]) / "dataset_info.json").exists():
        data = sources.load_beir(paths[0], prefer=("test", "dev", "train") if prefix else sources.QRELS_SPLITS)
        for doc_id, text in data.corpus.items():
            corpus.setdefault(doc_id, text)
        notes.columns.append(f"PAIRS {paths[0]}: a BEIR folder ({len(data.queries)} queries, {len(data.corpus)} "
                             "documents)")
        notes.rows += sum(len(v) for v in data.qrels.values())
        return {prefix + q: t for q, t in data.queries.items()}, {prefix + q: j for q, j in data.qrels.items()}
    qrels_files = [p for p in paths if sources.is_qrels_file(p)]
    rows = [p for p in paths if p not in qrels_files]
    if len(rows) != 1 or len(qrels_files) > 1:
        raise ValueError(f"PAIRS {paths}: expected one rows file, optionally with one qrels TSV, or one BEIR folder; "
                         f"found {len(rows)} rows file(s) and {len(qrels_files)} qrels file(s).")
    columns = sources.read_rows(rows[0])
    return pairs_from_rows(columns, rows[0], corpus, prefix, notes, qrels_files[0] if qrels_files else None)
