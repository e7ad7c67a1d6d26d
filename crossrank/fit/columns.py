"""Which columns of a PAIRS or CORPUS file play which role, detected by name and value type.

The label and the text roles follow the library's rules (:func:`crossrank.data.columns.resolve_columns`
and :func:`~crossrank.data.columns.resolve_roles`: known names first, column order only when no name
matches). Ids (of queries, and of documents that point into CORPUS) are found by name. Every choice is
returned as text so fit can print it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crossrank.data.columns import resolve_columns, resolve_roles

DOCUMENT_COLUMNS = ("document", "documents", "doc", "passage", "passages", "positive", "positives", "answer",
                    "sentence", "context", "text", "content", "contents", "body", "doc_text", "passage_text",
                    "response", "abstract")
QUERY_ID_COLUMNS = ("qid", "query_id", "query-id", "queryid", "question_id", "_id", "id")
DOCUMENT_ID_COLUMNS = ("doc_id", "docid", "doc_ids", "document_id", "document_ids", "corpus_id", "corpus-id",
                       "pid", "passage_id", "cited_doc_ids", "positive_id", "positive_ids", "positive_doc_ids")
TITLE_COLUMNS = ("title", "doc_title", "heading")
CORPUS_ID_COLUMNS = ("_id", "id", "doc_id", "docid", "corpus_id", "corpus-id", "pid", "document_id")


@dataclass(frozen=True)
class PairColumns:
    """Roles of a PAIRS file's columns; ``document`` holds ids when ``document_is_id``."""

    query: str
    document: str | None
    document_is_id: bool
    label: str | None
    query_id: str | None

    def describe(self) -> str:
        doc = "none (documents from qrels)" if self.document is None else (
            f"{self.document!r} (document ids)" if self.document_is_id else repr(self.document))
        parts = [f"query {self.query!r}", f"document {doc}"]
        parts.append(f"label {self.label!r}" if self.label else "label none (every row is relevant)")
        if self.query_id:
            parts.append(f"query id {self.query_id!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class CorpusColumns:
    """Roles of a CORPUS file's columns."""

    text: str
    doc_id: str | None
    title: str | None

    def describe(self) -> str:
        return (f"text {self.text!r}, id {self.doc_id!r}" if self.doc_id else f"text {self.text!r}, id row number") + (
            f", title {self.title!r}" if self.title else "")


def _kind(values: Sequence[Any]) -> str:
    """``text``, ``text-list``, ``number`` or ``other`` from the first non-null values."""
    sample = [v for v in values[:50] if v is not None]
    if not sample:
        return "other"
    if all(isinstance(v, str) for v in sample):
        return "text"
    if all(isinstance(v, list) and all(isinstance(x, (str, int)) for x in v) for v in sample):
        return "text-list"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample):
        return "number"
    return "other"


def _first(names: Sequence[str], wanted: Sequence[str], ok: Any = lambda name: True) -> str | None:
    lowered = {name.lower(): name for name in names}
    return next((lowered[w] for w in wanted if w in lowered and ok(lowered[w])), None)


def _kinds_text(columns: Mapping[str, Sequence[Any]]) -> str:
    return ", ".join(f"{name} ({_kind(values)})" for name, values in columns.items())


def detect_pair_columns(columns: Mapping[str, Sequence[Any]], source: str, with_qrels: bool) -> PairColumns:
    """Find the query, document, label and query-id columns of a PAIRS file.

    Text roles follow the library's rule (:func:`crossrank.data.columns.resolve_roles`: known names first,
    position only when no name matches, ambiguity refused). Documents may instead be ids into CORPUS (a
    document-id column such as ``doc_id`` or ``cited_doc_ids``), and with ``with_qrels`` (a qrels file names
    the relevant documents) only a query text and a query id are needed. Raises a one-line ``ValueError``.
    """
    names = resolve_columns(list(columns)).inputs
    label = resolve_columns(list(columns)).label
    kinds = {name: _kind(columns[name]) for name in names}
    ids = (*QUERY_ID_COLUMNS, *DOCUMENT_ID_COLUMNS)
    qid = _first(names, QUERY_ID_COLUMNS, lambda n: kinds[n] in ("text", "number"))
    doc_id = None if with_qrels else _first(names, DOCUMENT_ID_COLUMNS,
                                            lambda n: kinds[n] in ("text", "text-list", "number"))
    texts = [n for n in names if kinds[n] in ("text", "text-list") and n.lower() not in ids]
    needed = ("query",) if with_qrels or doc_id else ("query", "document")
    fix = "rename the columns to query and document (or give document ids in a doc_id column)."
    try:
        roles = resolve_roles(texts, needed, fix=fix)
    except ValueError as err:
        need = "a query text column and a query id column (for the qrels)" if with_qrels else (
            "a query column (e.g. query, question) and a document column (e.g. document, passage, text) or a "
            "document-id column (e.g. doc_id) pointing into CORPUS")
        raise ValueError(f"{source}: no usable query/document columns: found {_kinds_text(columns)}; expected "
                         f"{need} ({err})") from None
    if kinds[roles["query"]] != "text":
        raise ValueError(f"{source}: the query column {roles['query']!r} holds lists; expected one query text per "
                         "row.")
    if with_qrels and qid is None:
        raise ValueError(f"{source}: the qrels name queries by id, but no query id column was found among "
                         f"{_kinds_text(columns)}; expected one of {', '.join(QUERY_ID_COLUMNS)}.")
    if "document" in roles:
        return PairColumns(roles["query"], roles["document"], False, label, qid)
    return PairColumns(roles["query"], doc_id, doc_id is not None, label, qid)


def detect_corpus_columns(columns: Mapping[str, Sequence[Any]], source: str) -> CorpusColumns:
    """Find the text, id and title columns of a CORPUS file (one-line error when there is no text)."""
    names = list(columns)
    kinds = {name: _kind(columns[name]) for name in names}
    text = _first(names, DOCUMENT_COLUMNS, lambda n: kinds[n] == "text")
    doc_id = _first(names, CORPUS_ID_COLUMNS, lambda n: kinds[n] in ("text", "number") and n != text)
    title = _first(names, TITLE_COLUMNS, lambda n: kinds[n] == "text" and n != text)
    if text is None:
        others = [n for n in names if kinds[n] == "text" and n not in (doc_id, title)]
        text = others[0] if len(others) == 1 else None
    if text is None:
        raise ValueError(f"{source}: no document text column: found {_kinds_text(columns)}; expected one of "
                         f"{', '.join(DOCUMENT_COLUMNS[:8])}, ... (with optional _id and title).")
    return CorpusColumns(text, doc_id, title)
