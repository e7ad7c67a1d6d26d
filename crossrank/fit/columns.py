"""Which columns of a PAIRS or CORPUS file play which role, detected by name and value type.

The label follows the library's rule (:func:`crossrank.data.columns.resolve_columns`: the first column
named label/labels/score/scores). Among the other columns, the query, the document (text, or document ids
that point into CORPUS) and the ids are found by name, falling back to the library's column order (query
first, then the document). Every choice is returned as text so fit can print it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crossrank.data.columns import QUERY_NAMES, resolve_columns

QUERY_COLUMNS = (*QUERY_NAMES, "claim", "claims", "query_text", "question_text", "q", "title_query")
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

    With ``with_qrels`` (a qrels file names the relevant documents) only a query text and a query id are
    needed. Raises a one-line ``ValueError`` naming what was found and what is expected.
    """
    roles = resolve_columns(list(columns))
    names = roles.inputs
    kinds = {name: _kind(columns[name]) for name in names}
    ids = (*QUERY_ID_COLUMNS, *DOCUMENT_ID_COLUMNS)
    qid = _first(names, QUERY_ID_COLUMNS, lambda n: kinds[n] in ("text", "number"))
    doc_id = None if with_qrels else _first(names, DOCUMENT_ID_COLUMNS,
                                            lambda n: kinds[n] in ("text", "text-list", "number"))
    query = _first(names, QUERY_COLUMNS, lambda n: kinds[n] == "text")
    text_columns = [n for n in names if kinds[n] == "text" and n.lower() not in ids and n != query]
    if query is None and text_columns:
        query = text_columns.pop(0)  # the library's order rule: the query comes first
    document = None
    if not with_qrels:
        document = _first(text_columns, DOCUMENT_COLUMNS) or (text_columns[0] if text_columns and doc_id is None
                                                               else None)
        if document is None and doc_id is None:
            lists = [n for n in names if kinds[n] == "text-list" and n.lower() not in ids]
            document = lists[0] if lists else None
    if query is None or (document is None and doc_id is None and not with_qrels):
        need = "a query text column and a query id column (for the qrels)" if with_qrels else (
            "a query column (e.g. query, question) and a document column (e.g. document, passage, text) or a "
            "document-id column (e.g. doc_id) pointing into CORPUS")
        raise ValueError(f"{source}: no usable query/document columns: found {_kinds_text(columns)}; expected {need}. "
                         "Rename the columns, e.g. to query and document.")
    if with_qrels and qid is None:
        raise ValueError(f"{source}: the qrels name queries by id, but no query id column was found among "
                         f"{_kinds_text(columns)}; expected one of {', '.join(QUERY_ID_COLUMNS)}.")
    if document is None:
        return PairColumns(query, doc_id, doc_id is not None, roles.label, qid)
    return PairColumns(query, document, False, roles.label, qid)


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
