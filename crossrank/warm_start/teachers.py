"""Teachers for the warm start: the first stage's own relevance scores over a corpus.

A teacher indexes the corpus once, then for each query returns its top documents with scores
(:meth:`retrieve`) and scores any given candidates (:meth:`score`). Three kinds:

- :class:`EmbedderTeacher`: cosine similarity of a :class:`crossrank.Embedder` (exact chunked search);
- :class:`BM25Teacher`: BM25 (``bm25s``, English stopwords, the settings of crossrank's BEIR evaluator);
- :class:`HybridTeacher`: the two blended per query (z-scores over the pooled candidates, a weighted sum,
  as :mod:`crossrank.fusion` does at ranking time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from crossrank.inference.fusion import normalize_scores

BM25_HINT = "the BM25 teacher needs the bm25s package: pip install 'crossrank[bm25]' (or bm25s)."


@runtime_checkable
class Teacher(Protocol):
    """What the warm start needs from a first stage."""

    name: str

    def index(self, corpus: Sequence[str]) -> None:
        """Prepare to search and score ``corpus`` (document indices refer to this order)."""

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Per query, its top ``k`` ``(document index, score)``, best first."""

    def score(self, queries: Sequence[str], candidates: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Per query, the score of each of its candidate documents (same order)."""

    def extend(self, documents: Sequence[str]) -> None:
        """Add ``documents`` to the index after the existing ones (to score texts outside the corpus)."""


def _check_indexed(corpus_size: int | None, name: str) -> int:
    if corpus_size is None:
        raise RuntimeError(f"{name}: call index(corpus) before retrieve or score.")
    return corpus_size


class EmbedderTeacher:
    """Cosine similarity of an embedding model.

    Args:
        model: an :class:`crossrank.Embedder`, a folder, or ``package:NAME``.
        batch_size: encoding batch size.
        cache_folder: where the Embedder caches corpus embeddings (``None``: no cache).
    """

    def __init__(self, model: Any, batch_size: int = 32, cache_folder: str | None = None) -> None:
        from crossrank import Embedder

        self.embedder = model if isinstance(model, Embedder) else Embedder(str(model))
        self.name = f"embedder:{model if isinstance(model, str) else getattr(self.embedder, 'model_id', 'model')}"
        self.batch_size, self.cache_folder = batch_size, cache_folder
        self._corpus: np.ndarray | None = None

    def index(self, corpus: Sequence[str]) -> None:
        self._corpus = np.asarray(self.embedder.encode(list(corpus), batch_size=self.batch_size,
                                                       cache_folder=self.cache_folder), dtype=np.float32)

    def extend(self, documents: Sequence[str]) -> None:
        _check_indexed(None if self._corpus is None else len(self._corpus), self.name)
        extra = np.asarray(self.embedder.encode(list(documents), batch_size=self.batch_size), dtype=np.float32)
        self._corpus = np.concatenate([self._corpus, extra.reshape(len(documents), -1)])  # type: ignore[list-item]

    def _queries(self, queries: Sequence[str]) -> np.ndarray:
        return np.asarray(self.embedder.encode(list(queries), batch_size=self.batch_size), dtype=np.float32)

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        from crossrank.mining.search import search

        size = _check_indexed(None if self._corpus is None else len(self._corpus), self.name)
        scores, indices = search(self._queries(queries), self._corpus, min(k, size))
        return [[(int(i), float(s)) for i, s in zip(row_i, row_s) if i >= 0]
                for row_i, row_s in zip(indices.tolist(), scores.tolist())]

    def score(self, queries: Sequence[str], candidates: Sequence[Sequence[int]]) -> list[np.ndarray]:
        _check_indexed(None if self._corpus is None else len(self._corpus), self.name)
        vectors = self._queries(queries)
        return [self._corpus[list(c)] @ q if len(c) else np.zeros(0, np.float32)  # type: ignore[index]
                for q, c in zip(vectors, candidates)]


class BM25Teacher:
    """BM25 from ``bm25s`` with English stopwords (the defaults of crossrank's BEIR evaluator)."""

    name = "bm25"

    def __init__(self) -> None:
        try:
            import bm25s
        except ImportError as err:
            raise ImportError(BM25_HINT) from err
        self._bm25s = bm25s
        self._retriever: Any = None
        self._size: int | None = None
        self._documents: list[str] = []

    def _tokens(self, texts: Sequence[str]) -> list[list[str]]:
        return self._bm25s.tokenize(list(texts), stopwords="en", return_ids=False, show_progress=False)

    def index(self, corpus: Sequence[str]) -> None:
        self._retriever = self._bm25s.BM25()
        self._retriever.index(self._bm25s.tokenize(list(corpus), stopwords="en", show_progress=False),
                              show_progress=False)
        self._size = len(corpus)
        self._documents = list(corpus)

    def extend(self, documents: Sequence[str]) -> None:
        """Re-index the corpus plus ``documents`` (indexing is fast; the statistics then include them)."""
        _check_indexed(self._size, self.name)
        self.index(self._documents + list(documents))

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        size = _check_indexed(self._size, self.name)
        out = []
        for tokens in self._tokens(queries):
            scores = self._retriever.get_scores(tokens) if tokens else np.zeros(size, np.float32)
            top = np.argsort(-scores, kind="stable")[: min(k, size)]
            out.append([(int(i), float(scores[i])) for i in top])
        return out

    def score(self, queries: Sequence[str], candidates: Sequence[Sequence[int]]) -> list[np.ndarray]:
        size = _check_indexed(self._size, self.name)
        out = []
        for tokens, cands in zip(self._tokens(queries), candidates):
            scores = self._retriever.get_scores(tokens) if tokens else np.zeros(size, np.float32)
            out.append(np.asarray(scores, dtype=np.float32)[list(cands)])
        return out


class HybridTeacher:
    """Dense and BM25 blended per query: ``(1 - weight) * z(dense) + weight * z(bm25)`` over the pool.

    ``retrieve`` pools both teachers' top ``k``, scores every pooled document with both, and returns the
    best ``k`` by the blend; ``score`` blends both teachers' scores of the given candidates.

    Args:
        dense: the dense teacher (an :class:`EmbedderTeacher`).
        sparse: the lexical teacher (a :class:`BM25Teacher`).
        weight: share of the sparse score, in [0, 1].
    """

    def __init__(self, dense: Teacher, sparse: Teacher, weight: float = 0.5) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"hybrid weight must be in [0, 1]; found {weight}.")
        self.dense, self.sparse, self.weight = dense, sparse, float(weight)
        self.name = f"hybrid({dense.name}, {sparse.name}, weight {weight:g})"

    def index(self, corpus: Sequence[str]) -> None:
        self.dense.index(corpus)
        self.sparse.index(corpus)

    def extend(self, documents: Sequence[str]) -> None:
        self.dense.extend(documents)
        self.sparse.extend(documents)

    def _blend(self, dense: np.ndarray, sparse: np.ndarray) -> np.ndarray:
        return ((1.0 - self.weight) * normalize_scores(dense, "zscore")
                + self.weight * normalize_scores(sparse, "zscore"))

    def score(self, queries: Sequence[str], candidates: Sequence[Sequence[int]]) -> list[np.ndarray]:
        dense = self.dense.score(queries, candidates)
        sparse = self.sparse.score(queries, candidates)
        return [self._blend(d, s).astype(np.float32) for d, s in zip(dense, sparse)]

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        pools = [list(dict.fromkeys([i for i, _ in a] + [i for i, _ in b]))
                 for a, b in zip(self.dense.retrieve(queries, k), self.sparse.retrieve(queries, k))]
        blended = self.score(queries, pools)
        out = []
        for pool, scores in zip(pools, blended):
            order = np.argsort(-scores, kind="stable")[:k]
            out.append([(pool[i], float(scores[i])) for i in order])
        return out
