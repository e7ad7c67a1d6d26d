"""Exact values of the pure metric functions on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossrank.evaluation import metrics as M


def test_rank_order_breaks_ties_later_first() -> None:
    assert M.rank_order([0.5, 0.9, 0.5, 0.1]).tolist() == [1, 2, 0, 3]


def test_mrr_at_k() -> None:
    assert M.mrr_at_k([0, 0, 1], [0.9, 0.8, 0.7]) == pytest.approx(1 / 3)
    assert M.mrr_at_k([0, 0, 1], [0.9, 0.8, 0.7], k=2) == 0.0
    assert M.mrr_at_k([0, 2, 0], [0.1, 0.5, 0.9]) == 0.5


def test_ndcg_binary_and_graded() -> None:
    # relevant at ranks 1 and 3: DCG = 1 + 1/2; IDCG = 1 + 1/log2(3)
    assert M.ndcg_at_k([1, 0, 1], [3, 2, 1]) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # graded: gains 2 at rank 2, 1 at rank 1: DCG = 1 + 2/log2(3); IDCG = 2 + 1/log2(3)
    want = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert M.ndcg_at_k([1, 2, 0], [3, 2, 1]) == pytest.approx(want)
    assert M.ndcg_at_k([0, 0], [1, 2]) == 0.0
    assert M.ndcg_at_k([0, 1, 1], [3, 2, 1], k=1) == 0.0


def test_ndcg_ties_share_gain() -> None:
    # two tied documents, one relevant: expected DCG = (1 + 1/log2(3)) / 2
    assert M.ndcg_at_k([1, 0], [1.0, 1.0]) == pytest.approx((1 + 1 / math.log2(3)) / 2)


def test_average_precision() -> None:
    # relevant at ranks 1 and 3: (1/1 + 2/3) / 2
    assert M.average_precision([1, 0, 1], [3, 2, 1]) == pytest.approx(5 / 6)
    assert M.average_precision([0, 0], [1, 2]) == 0.0
    # tied pair counted as one threshold: precision 1/2 at recall 1
    assert M.average_precision([1, 0], [1.0, 1.0]) == 0.5


def test_recall_at_k() -> None:
    assert M.recall_at_k([1, 0, 1, 1], [4, 3, 2, 1], k=2) == pytest.approx(1 / 3)
    assert M.recall_at_k([0, 0], [1, 2], k=1) == 0.0


def test_ranking_errors() -> None:
    with pytest.raises(ValueError, match=r"^relevance and scores must have the same length; got 2 relevance"):
        M.ndcg_at_k([1, 0], [1.0])
    with pytest.raises(ValueError, match=r"^k must be a positive integer; got 0\.$"):
        M.mrr_at_k([1], [1.0], k=0)
    with pytest.raises(ValueError, match=r"^NDCG gains must be non-negative; got minimum -1\.0\."):
        M.ndcg_at_k([-1, 1], [1.0, 2.0])


def test_best_accuracy_and_threshold() -> None:
    acc, threshold = M.best_accuracy_and_threshold([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
    assert (acc, threshold) == (1.0, pytest.approx(0.55))
    acc, threshold = M.best_accuracy_and_threshold(np.array([0.2, 0.1], dtype=np.float32), [0, 0])
    assert acc == 1.0
    assert threshold > 0.2


def test_best_f1_and_threshold() -> None:
    f1, precision, recall, threshold = M.best_f1_and_threshold([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])
    assert (f1, precision, recall) == (pytest.approx(0.8), pytest.approx(2 / 3), 1.0)
    assert threshold == pytest.approx(0.2)


def test_binary_label_errors() -> None:
    with pytest.raises(ValueError, match=r"^binary labels must be 0 or 1; found \[2\.0\]\."):
        M.best_f1_and_threshold([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match=r"^scores and labels must have the same length; got 2 scores and 1 labels"):
        M.best_accuracy_and_threshold([0.1, 0.2], [0])


def test_f1_scores() -> None:
    got = M.f1_scores([0, 0, 1, 2], [0, 1, 1, 2])
    # per class F1: 0 -> 2/3, 1 -> 2/3, 2 -> 1; support 2, 1, 1
    assert got == {
        "f1_macro": pytest.approx(7 / 9),
        "f1_micro": 0.75,
        "f1_weighted": pytest.approx((2 * 2 / 3 + 2 / 3 + 1) / 4),
    }


def test_correlations() -> None:
    assert M.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert M.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)
    assert M.spearman([1, 2, 2, 3], [3, 2, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(M.pearson([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match=r"^correlation needs two vectors of the same length; got 3 and 2\.$"):
        M.pearson([1, 2, 3], [1, 2])
