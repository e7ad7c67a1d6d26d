"""Cohere's rerank API: ``POST /v2/rerank`` (string documents) and ``POST /v1/rerank`` (also Jina's shape).

v2 request: ``model, query, documents: [str], top_n, max_tokens_per_doc`` (+ ``priority``,
``relevant_spans``, accepted and unused). Response: ``{id, results: [{index, relevance_score}], meta}``.

v1 request: ``model, query, documents: [str | {text, ...}], top_n, rank_fields, return_documents,
max_chunks_per_doc`` (accepted, unused: documents are not chunked, they are truncated and the count is
reported). Response results add ``document`` (the object sent, or ``{text}``) when
``return_documents`` is true; ``usage`` carries the token counts Jina clients read.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from crossrank.serving.errors import ApiError
from crossrank.serving.schemas.base import RequestModel


class CohereV2Request(RequestModel):
    query: str
    documents: list[str]
    model: str | None = None
    top_n: int | None = Field(None, ge=1)
    max_tokens_per_doc: int | None = Field(None, ge=1)


class CohereV1Request(RequestModel):
    query: str
    documents: list[str | dict[str, Any]]
    model: str | None = None
    top_n: int | None = Field(None, ge=1)
    rank_fields: list[str] | None = None
    return_documents: bool | None = None
    max_tokens_per_doc: int | None = Field(None, ge=1)


def document_texts(documents: Sequence[str | dict[str, Any]], rank_fields: Sequence[str] | None) -> list[str]:
    """The text scored for each v1 document: a string as is; an object's ``text`` or its ``rank_fields``.

    With several rank fields the text is one ``field: value`` line per field, in the order given.
    """
    fields = list(rank_fields) if rank_fields else ["text"]
    if not fields:
        raise ApiError(422, "rank_fields is empty; name the document fields to rank on, e.g. [\"text\"].",
                       "validation")
    texts = []
    for i, doc in enumerate(documents):
        if isinstance(doc, str):
            texts.append(doc)
            continue
        values = []
        for name in fields:
            value = doc.get(name)
            if not isinstance(value, str):
                found = "missing" if name not in doc else f"a {type(value).__name__}"
                raise ApiError(422, f"documents.{i}.{name} must be a string; it is {found}. Send documents as "
                                    f"strings or objects with a string field {name!r} (see rank_fields).",
                               "validation")
            values.append(value)
        texts.append(values[0] if len(fields) == 1 else "\n".join(f"{n}: {v}" for n, v in zip(fields, values)))
    return texts


def _meta(version: str, num_docs: int, tokens: int, warnings: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"api_version": {"version": version},
                            "billed_units": {"search_units": max(1, math.ceil(num_docs / 100))},
                            "tokens": {"input_tokens": tokens}}
    if warnings:
        meta["warnings"] = warnings
    return meta


def v2_response(order: Sequence[int], scores: Sequence[float], tokens: int, warnings: list[str]) -> dict[str, Any]:
    results = [{"index": int(i), "relevance_score": float(scores[i])} for i in order]
    return {"id": str(uuid.uuid4()), "results": results, "meta": _meta("2", len(scores), tokens, warnings)}


def v1_response(order: Sequence[int], scores: Sequence[float], documents: Sequence[str | dict[str, Any]] | None,
                model: str, tokens: int, warnings: list[str]) -> dict[str, Any]:
    results = []
    for i in order:
        item: dict[str, Any] = {"index": int(i), "relevance_score": float(scores[i])}
        if documents is not None:
            doc = documents[i]
            item["document"] = {"text": doc} if isinstance(doc, str) else dict(doc)
        results.append(item)
    return {"id": str(uuid.uuid4()), "model": model, "results": results,
            "meta": _meta("1", len(scores), tokens, warnings),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
