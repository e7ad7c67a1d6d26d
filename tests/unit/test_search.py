"""Tests for crossrank.mining.search: exact chunked top-k, FAISS parity, padding and the k formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from crossrank.mining.search import auto_chunk_size, candidate_count, exact_search, search


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_candidate_count_is_window_plus_positives() -> None:
    assert candidate_count(12, 3) == 15


def test_exact_matches_full_matrix_for_any_chunk() -> None:
    q, c = _unit(7, 16, 0), _unit(50, 16, 1)
    full = torch.topk(torch.from_numpy(q @ c.T), k=5, dim=1)
    for chunk in (1, 3, 7, 100):
        scores, idx = exact_search(q, c, 5, chunk_size=chunk)
        assert torch.equal(idx, full.indices)
        assert torch.allclose(scores, full.values)


def test_padding_when_corpus_smaller_than_k() -> None:
    q, c = _unit(2, 8, 0), _unit(3, 8, 1)
    scores, idx = search(q, c, 5)
    assert idx[:, 3:].tolist() == [[-1, -1], [-1, -1]]
    assert all(math.isinf(v) and v < 0 for v in scores[:, 3:].flatten().tolist())
    assert sorted(idx[0, :3].tolist()) == [0, 1, 2]


def test_faiss_matches_exact_including_padding() -> None:
    pytest.importorskip("faiss")
    q, c = _unit(9, 16, 2), _unit(40, 16, 3)
    for k in (4, 45):
        s1, i1 = search(q, c, k, backend="exact")
        s2, i2 = search(q, c, k, backend="faiss", index_type="flat")
        assert torch.equal(i1, i2)
        assert torch.allclose(s1, s2, atol=1e-5)


def test_faiss_approximate_indexes_run() -> None:
    pytest.importorskip("faiss")
    q, c = _unit(5, 16, 4), _unit(400, 16, 5)
    _, exact = search(q, c, 3)
    for kind in ("ivf", "hnsw"):
        _, approx = search(q, c, 3, backend="faiss", index_type=kind)
        assert approx.shape == (5, 3)
        assert (approx[:, 0] == exact[:, 0]).float().mean().item() >= 0.6


def test_auto_chunk_size_bounds_block_bytes() -> None:
    assert auto_chunk_size(1_000_000, max_chunk_bytes=256 * 1024**2) == 67
    assert auto_chunk_size(10) == 16384


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be at least 1, got 0."),
        ({"k": 2, "backend": "annoy"}, "Unknown search backend 'annoy'; expected 'exact' or 'faiss'."),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        search(_unit(2, 4, 0), _unit(3, 4, 1), **kwargs)
    assert str(err.value) == message


def test_empty_corpus_and_dimension_mismatch() -> None:
    with pytest.raises(ValueError, match="The corpus is empty"):
        search(_unit(2, 4, 0), np.zeros((0, 4), np.float32), 1)
    with pytest.raises(ValueError, match="queries have dimension 4 but the corpus has 8"):
        search(_unit(2, 4, 0), _unit(3, 8, 1), 1)
