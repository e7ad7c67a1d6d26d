"""Top-k inner-product search behind one signature: exact chunked torch or FAISS.

Both back ends take L2-normalised float32 embeddings and return ``(scores, indices)`` of shape
``(n_queries, k)``, sorted by descending score. When the corpus holds fewer than ``k`` vectors the
missing columns are padded with score ``-inf`` and index ``-1`` — the same on both back ends. The number
of candidates a mining run asks for is always :func:`candidate_count`.

The exact back end never builds the full ``queries x corpus`` matrix: it scores ``chunk_size`` queries at a
time, so its extra memory is ``O(chunk_size x corpus)``; by default ``chunk_size`` is chosen so that one
chunk's score block stays under ``max_chunk_bytes``.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import numpy as np
import torch

logger = logging.getLogger(__name__)

Backend = Literal["exact", "faiss"]
FaissIndex = Literal["auto", "flat", "ivf", "hnsw"]
APPROXIMATE_ABOVE = 1_000_000
DEFAULT_CHUNK_BYTES = 256 * 1024**2
FAISS_HINT = (
    "FAISS is not installed: `pip install crossrank[faiss]` (or faiss-cpu / faiss-gpu), or use the exact search."
)


def candidate_count(range_max: int, max_positives: int) -> int:
    """How many neighbours a mining search retrieves: the window plus room for each query's positives."""
    return range_max + max_positives


def _as_tensor(embeddings: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(embeddings)
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, dim) array, found shape {tuple(tensor.shape)}.")
    return tensor.float()


def auto_chunk_size(n_corpus: int, max_chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """Queries per chunk so that one ``(chunk, n_corpus)`` float32 block fits ``max_chunk_bytes``."""
    return max(1, min(16384, max_chunk_bytes // (4 * max(n_corpus, 1))))


def _pad(scores: torch.Tensor, indices: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    missing = k - scores.size(1)
    if missing <= 0:
        return scores, indices
    scores = torch.cat([scores, scores.new_full((scores.size(0), missing), -math.inf)], dim=1)
    indices = torch.cat([indices, indices.new_full((indices.size(0), missing), -1)], dim=1)
    return scores, indices


def exact_search(
    queries: np.ndarray | torch.Tensor,
    corpus: np.ndarray | torch.Tensor,
    k: int,
    chunk_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``k`` by inner product, ``chunk_size`` queries at a time.

    Args:
        queries: ``(Q, D)`` query embeddings.
        corpus: ``(N, D)`` corpus embeddings.
        k: neighbours per query; columns beyond ``N`` are padded with ``-inf`` / ``-1``.
        chunk_size: queries per block; ``None`` picks one from :func:`auto_chunk_size`.

    Returns:
        ``(scores float32 (Q, k), indices int64 (Q, k))`` sorted by descending score.
    """
    q = _as_tensor(queries, "queries")
    c = _as_tensor(corpus, "corpus")
    if q.size(1) != c.size(1):
        raise ValueError(f"queries have dimension {q.size(1)} but the corpus has {c.size(1)}; use one model.")
    chunk = chunk_size or auto_chunk_size(c.size(0))
    take = min(k, c.size(0))
    all_scores = torch.empty((q.size(0), take), dtype=torch.float32)
    all_indices = torch.empty((q.size(0), take), dtype=torch.int64)
    for start in range(0, q.size(0), chunk):
        block = q[start : start + chunk] @ c.T
        top = torch.topk(block, k=take, dim=1)
        all_scores[start : start + chunk] = top.values
        all_indices[start : start + chunk] = top.indices
        del block, top
    return _pad(all_scores, all_indices, k)


def build_faiss_index(corpus: np.ndarray, index_type: FaissIndex = "auto", nprobe: int = 32) -> Any:
    """Build a FAISS inner-product index over ``corpus``.

    Args:
        corpus: ``(N, D)`` float32 embeddings.
        index_type: ``flat`` (exact), ``ivf`` (IVF-Flat, trained on a sample), ``hnsw``, or ``auto``
            (flat up to one million vectors, IVF above).
        nprobe: IVF lists visited per query.

    Returns:
        The populated index.
    """
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(FAISS_HINT) from err
    n, dim = corpus.shape
    if index_type == "auto":
        index_type = "flat" if n <= APPROXIMATE_ABOVE else "ivf"
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 256
    elif index_type == "ivf":
        nlist = max(1, min(int(4 * math.sqrt(n)), n // 39 or 1))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = corpus[np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)]
        index.train(sample)
        index.nprobe = min(nprobe, nlist)
    else:
        raise ValueError(f"Unknown faiss index type {index_type!r}; expected one of auto, flat, ivf, hnsw.")
    index.add(corpus)
    return index


def faiss_search(
    queries: np.ndarray | torch.Tensor,
    corpus: np.ndarray | torch.Tensor,
    k: int,
    chunk_size: int | None = None,
    index_type: FaissIndex = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` by inner product with FAISS; same signature and output as :func:`exact_search`."""
    q = np.ascontiguousarray(_as_tensor(queries, "queries").numpy())
    c = np.ascontiguousarray(_as_tensor(corpus, "corpus").numpy())
    if q.shape[1] != c.shape[1]:
        raise ValueError(f"queries have dimension {q.shape[1]} but the corpus has {c.shape[1]}; use one model.")
    if index_type in ("hnsw",) and k > 256:
        logger.warning("HNSW efSearch=256 is below k=%d: results may be short; use index_type='flat'.", k)
    index = build_faiss_index(c, index_type)
    chunk = chunk_size or 16384
    scores = np.empty((q.shape[0], k), dtype=np.float32)
    indices = np.empty((q.shape[0], k), dtype=np.int64)
    for start in range(0, q.shape[0], chunk):
        scores[start : start + chunk], indices[start : start + chunk] = index.search(q[start : start + chunk], k)
    scores[indices < 0] = -math.inf
    return torch.from_numpy(scores), torch.from_numpy(indices)


def search(
    queries: np.ndarray | torch.Tensor,
    corpus: np.ndarray | torch.Tensor,
    k: int,
    backend: Backend = "exact",
    chunk_size: int | None = None,
    index_type: FaissIndex = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` inner-product search with the chosen back end.

    Args:
        queries: ``(Q, D)`` embeddings.
        corpus: ``(N, D)`` embeddings.
        k: neighbours per query (see :func:`candidate_count`); must be at least 1.
        backend: ``exact`` (chunked torch) or ``faiss``.
        chunk_size: queries per block.
        index_type: FAISS index kind (ignored by the exact back end).

    Returns:
        ``(scores, indices)`` of shape ``(Q, k)``, descending, padded with ``-inf`` / ``-1``.

    Raises:
        ValueError: on ``k < 1``, an empty corpus, or an unknown back end.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    if len(corpus) == 0:
        raise ValueError("The corpus is empty: pass at least one document to search.")
    if backend == "exact":
        return exact_search(queries, corpus, k, chunk_size)
    if backend == "faiss":
        return faiss_search(queries, corpus, k, chunk_size, index_type)
    raise ValueError(f"Unknown search backend {backend!r}; expected 'exact' or 'faiss'.")
