"""Reranking-evaluation samples from retrieval.

Builds the samples a ``RerankingEvaluator`` consumes — ``{"query", "positive": [...], "documents": [...]}``
where ``documents`` is a first-stage retriever's top-k (positives included when retrieved) — from
(query, answer) pairs, or from a BEIR-format folder (corpus, queries, qrels) such as SciFact.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crossrank.data.beir import load_beir_folder
from crossrank.data.columns import is_positive
from crossrank.inference.protocols import EmbeddingModel, TextEncoder
from crossrank.mining.hard_negatives import check_embeddings, prepare
from crossrank.mining.search import search


def _embedder(model: EmbeddingModel) -> TextEncoder:
    from crossrank.embedder import Embedder

    return Embedder(os.fspath(model)) if isinstance(model, str | os.PathLike) else model


def retrieve(model: EmbeddingModel, queries: list[str], corpus: list[str], top_k: int,
             batch_size: int = 32) -> list[list[int]]:
    """Top-``top_k`` corpus ids per query with ``model`` (an Embedder or a folder), exact search."""
    embedder = _embedder(model)
    corpus_emb = check_embeddings(embedder.encode(corpus, batch_size=batch_size), corpus, "corpus")
    query_emb = check_embeddings(embedder.encode(queries, batch_size=batch_size), queries, "query")
    _, indices = search(query_emb, corpus_emb, min(top_k, len(corpus)))
    return indices.tolist()


def samples_from_pairs(
    anchors: Sequence[str],
    positives: Sequence[str],
    model: EmbeddingModel,
    corpus: Sequence[str] | None = None,
    top_k: int = 30,
    batch_size: int = 32,
) -> list[dict[str, Any]]:
    """One sample per unique query: its positives and the retriever's top-``top_k`` documents.

    Args:
        anchors, positives: the (query, answer) pairs.
        model: embedding model (Embedder or folder).
        corpus: candidate documents; positives are always added (de-duplicated, order kept).
        top_k: documents per query.
        batch_size: encoding batch size.

    Returns:
        ``[{"query": str, "positive": [str], "documents": [str]}]`` in first-seen query order.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}.")
    prepared = prepare(list(anchors), list(positives), None if corpus is None else list(corpus))
    hits = retrieve(model, prepared.queries, prepared.corpus, top_k, batch_size)
    return [
        {
            "query": query,
            "positive": [prepared.corpus[p] for p in prepared.positive_ids[q]],
            "documents": [prepared.corpus[d] for d in hits[q] if d >= 0],
        }
        for q, query in enumerate(prepared.queries)
    ]


def add_first_stage_scores(
    samples: Sequence[dict[str, Any]], model: EmbeddingModel, batch_size: int = 32
) -> list[dict[str, Any]]:
    """Score every sample's candidates with an embedding model (cosine) and order them, best first.

    This turns labeled candidate lists (``positive`` + ``negative``, or ``documents``) into first-stage
    samples — ``{"query", "positive", "documents", "first_stage_scores"}`` — so that a ``RerankingEvaluator``
    reports the first stage as its ``base_*`` metrics and can tune the reranker's fusion with it.

    Args:
        samples: Evaluator samples; candidates are ``documents`` if present, else positives then negatives
            (duplicates dropped, first occurrence kept).
        model: An ``Embedder``, a folder, or ``package:NAME``.
        batch_size: Encoding batch size.
    """
    if not samples:
        raise ValueError("add_first_stage_scores needs at least one sample; found none.")
    embedder = _embedder(model)
    candidates = [list(dict.fromkeys(s["documents"] if "documents" in s
                                     else _texts(s["positive"]) + _texts(s.get("negative", []))))
                  for s in samples]
    texts = list(dict.fromkeys(doc for docs in candidates for doc in docs))
    index = {text: i for i, text in enumerate(texts)}
    doc_emb = check_embeddings(embedder.encode(texts, batch_size=batch_size), texts, "document")
    queries = [s["query"] for s in samples]
    query_emb = check_embeddings(embedder.encode(queries, batch_size=batch_size), queries, "query")
    out = []
    for sample, docs, q in zip(samples, candidates, query_emb):
        scores = doc_emb[[index[d] for d in docs]] @ q
        order = sorted(range(len(docs)), key=lambda i: -float(scores[i]))
        out.append({"query": sample["query"], "positive": _texts(sample["positive"]),
                    "documents": [docs[i] for i in order], "first_stage_scores": [float(scores[i]) for i in order]})
    return out


def _texts(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def load_beir(folder: str | Path, split: str = "test") -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """``(corpus, queries, qrels)`` of a BEIR folder (``data.beir.load_beir_folder``), qrels as the set of
    relevant (grade > 0) documents per query; queries without one are left out."""
    data = load_beir_folder(folder, split)
    qrels = {q: {d for d, grade in judged.items() if is_positive(grade)} for q, judged in data.qrels.items()}
    return data.corpus, data.queries, {q: docs for q, docs in qrels.items() if docs}


def samples_from_beir(
    folder: str | Path, model: EmbeddingModel, split: str = "test", top_k: int = 100,
    max_queries: int | None = None,
    batch_size: int = 32,
) -> list[dict[str, Any]]:
    """Reranking samples for the queries of a BEIR split that have relevant documents.

    Returns:
        ``[{"query", "positive": [relevant texts], "documents": [top-k texts]}]`` in qrels order.
    """
    corpus, queries, qrels = load_beir(folder, split)
    qids = [q for q in qrels if q in queries][: max_queries or None]
    if not qids:
        raise ValueError(f"No query of split {split!r} in {folder} has a relevant document; check the split name.")
    doc_ids = list(corpus)
    hits = retrieve(model, [queries[q] for q in qids], [corpus[d] for d in doc_ids], top_k, batch_size)
    return [
        {
            "query": queries[q],
            "positive": [corpus[d] for d in sorted(qrels[q]) if d in corpus],
            "documents": [corpus[doc_ids[i]] for i in hits[n] if i >= 0],
        }
        for n, q in enumerate(qids)
    ]
