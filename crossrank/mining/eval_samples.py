"""Reranking-evaluation samples from retrieval.

Builds the samples a ``RerankingEvaluator`` consumes — ``{"query", "positive": [...], "documents": [...]}``
where ``documents`` is a first-stage retriever's top-k (positives included when retrieved) — from
(query, answer) pairs, or from a BEIR-format folder (corpus, queries, qrels) such as SciFact.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crossrank.mining.hard_negatives import check_embeddings, prepare
from crossrank.mining.search import search


def read_table(path: str | Path) -> dict[str, list[Any]]:
    """Read a JSONL (optionally ``.gz``), CSV/TSV or Parquet file into ``{column: values}``.

    Raises:
        FileNotFoundError: when the file is missing.
        ValueError: on an unsupported extension or an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Input file {str(path)!r} not found.")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pydict()
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        if name.endswith((".jsonl", ".json")):
            records = [json.loads(line) for line in handle if line.strip()]
        elif name.endswith((".csv", ".tsv")):
            records = list(csv.DictReader(handle, delimiter="\t" if name.endswith(".tsv") else ","))
        else:
            raise ValueError(f"Unsupported file type {path.name!r}: expected .jsonl, .csv, .tsv or .parquet.")
    if not records:
        raise ValueError(f"{path} holds no rows.")
    columns: dict[str, list[Any]] = {key: [] for key in records[0]}
    for record in records:
        for key in columns:
            columns[key].append(record.get(key))
    return columns


def retrieve(model: Any, queries: list[str], corpus: list[str], top_k: int, batch_size: int = 32) -> list[list[int]]:
    """Top-``top_k`` corpus ids per query with ``model`` (an Embedder or a folder), exact search."""
    from crossrank.embedder import Embedder

    embedder = model if not isinstance(model, str | Path) else Embedder(str(model))
    corpus_emb = check_embeddings(embedder.encode(corpus, batch_size=batch_size), corpus, "corpus")
    query_emb = check_embeddings(embedder.encode(queries, batch_size=batch_size), queries, "query")
    _, indices = search(query_emb, corpus_emb, min(top_k, len(corpus)))
    return indices.tolist()


def samples_from_pairs(
    anchors: Sequence[str],
    positives: Sequence[str],
    model: Any,
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
    samples: Sequence[dict[str, Any]], model: Any, batch_size: int = 32
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
    from crossrank.embedder import Embedder

    if not samples:
        raise ValueError("add_first_stage_scores needs at least one sample; found none.")
    embedder = model if isinstance(model, Embedder) else Embedder(str(model))
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


def _find(folder: Path, candidates: Sequence[str]) -> Path:
    for name in candidates:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"None of {list(candidates)} found in BEIR folder {folder}.")


def load_beir(folder: str | Path, split: str = "test") -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Load ``(corpus, queries, qrels)`` from a BEIR folder.

    Accepts the standard layout (``corpus.jsonl``, ``queries.jsonl``, ``qrels/{split}.tsv``) and the
    SciFact-style one (``corpus.jsonl.gz``, ``claims_{split}.jsonl``, ``qrels_{split}.tsv``).
    Corpus text is ``title + " " + text``; qrels keep relevance > 0.
    """
    folder = Path(folder)
    corpus: dict[str, str] = {}
    table = read_table(_find(folder, ["corpus.jsonl", "corpus.jsonl.gz"]))
    ids = table.get("_id") or table.get("doc_id") or table["id"]
    titles = table.get("title") or [""] * len(ids)
    for doc, title, text in zip(ids, titles, table["text"]):
        corpus[str(doc)] = f"{title or ''} {text}".strip()
    qtable = read_table(_find(folder, ["queries.jsonl", f"claims_{split}.jsonl", f"queries_{split}.jsonl"]))
    qids = qtable.get("_id") or qtable["id"]
    qtexts = qtable.get("text") or qtable["claim"]
    queries = {str(q): str(t) for q, t in zip(qids, qtexts)}
    qrels: dict[str, set[str]] = {}
    qrel_file = _find(folder, [f"qrels/{split}.tsv", f"qrels_{split}.tsv"])
    with open(qrel_file, encoding="utf-8") as handle:
        for line in handle:
            parts = line.strip().split("\t")
            if len(parts) < 3 or not parts[-1].lstrip("-").isdigit():
                continue  # header or malformed line
            if int(parts[-1]) > 0:
                qrels.setdefault(parts[0], set()).add(parts[1] if len(parts) == 3 else parts[-2])
    return corpus, queries, qrels


def samples_from_beir(
    folder: str | Path, model: Any, split: str = "test", top_k: int = 100, max_queries: int | None = None,
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
