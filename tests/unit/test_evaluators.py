"""Evaluator behaviour without the reference: exact values, keys, CSV logs and error messages."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossrank.evaluation import (
    ClassificationEvaluator,
    CorrelationEvaluator,
    RerankingEvaluator,
    SequentialEvaluator,
)


class LengthModel:
    """Scores a pair by the length of its second text (longer = more relevant); counts predict calls."""

    num_labels = 1

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
        self.calls += 1
        return np.array([float(len(doc)) for _, doc in pairs], dtype=np.float32)


def test_reranking_exact_values_and_single_call() -> None:
    samples = [
        {"query": "q1", "positive": ["long relevant"], "negative": ["x", "yy"]},  # ranked 1st
        {"query": "q2", "positive": ["p"], "negative": ["aaa", "bb"]},  # ranked 3rd
    ]
    model = LengthModel()
    got = RerankingEvaluator(samples, name="dev", write_csv=False)(model)
    assert model.calls == 1
    assert got == {
        "dev_map": pytest.approx((1 + 1 / 3) / 2),
        "dev_mrr@10": pytest.approx((1 + 1 / 3) / 2),
        "dev_ndcg@10": pytest.approx((1 + 0.5) / 2),
    }


def test_reranking_documents_mode_base_metrics() -> None:
    samples = [{"query": "q", "positive": ["rel"], "documents": ["a long one", "rel", "bb"]}]
    got = RerankingEvaluator(samples, write_csv=False)(LengthModel())
    assert got["base_mrr@10"] == 0.5
    assert got["mrr@10"] == pytest.approx(1 / 2)  # "rel" (3) is behind "a long one" (10)
    assert list(got) == ["map", "mrr@10", "ndcg@10", "base_map", "base_mrr@10", "base_ndcg@10"]


def test_reranking_samples_without_positives_count_as_zero(caplog: pytest.LogCaptureFixture) -> None:
    samples = [
        {"query": "q1", "positive": ["long relevant"], "negative": ["x"]},
        {"query": "q2", "positive": [], "negative": ["x", "y"]},
    ]
    with caplog.at_level(logging.WARNING, logger="crossrank.evaluation.reranking"):
        got = RerankingEvaluator(samples, write_csv=False)(LengthModel())
    assert got["map"] == 0.5
    assert "1 of 2 queries have no relevant document to score; they count as 0 on every metric." in caplog.text


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([], "RerankingEvaluator needs at least one sample; got none. Pass a list of dicts with 'query', "
             "'positive' and 'negative' or 'documents'."),
        ([{"query": "q", "negative": ["n"]}], "sample 0: missing key 'positive'; found keys ['negative', 'query']. "
            "Every sample needs 'query', 'positive' and exactly one of 'negative' or 'documents'."),
        ([{"query": "q", "positive": ["p"]}], "sample 0: expected exactly one of 'negative' or 'documents'; found "
            "keys ['positive', 'query']. Use 'negative' for unranked negatives or 'documents' for a ranked "
            "first-stage list."),
        ([{"query": "q", "positive": [1], "negative": []}], "sample 0: 'positive' must be a string or a list of "
            "strings; got list. Pass the document texts, e.g. {'positive': ['text 1', 'text 2']}."),
    ],
)
def test_reranking_errors(samples: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError) as info:
        RerankingEvaluator(samples)
    assert str(info.value) == message


def test_reranking_rejects_multi_output_model() -> None:
    class TwoLabels:
        def predict(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
            return np.zeros((len(pairs), 2))

    evaluator = RerankingEvaluator([{"query": "q", "positive": "p", "negative": ["n"]}], write_csv=False)
    with pytest.raises(ValueError, match=r"^expected one score per pair \(2 scores\); the model returned shape"):
        evaluator(TwoLabels())


def test_classification_binary_values_and_csv(tmp_path: Path) -> None:
    pairs = [("q", "aaaa"), ("q", "bbb"), ("q", "c"), ("q", "dd")]
    evaluator = ClassificationEvaluator(pairs, [1, 1, 0, 0], name="cls")
    got = evaluator(LengthModel(), output_path=str(tmp_path), epoch=0, steps=5)
    assert got["cls_accuracy"] == 1.0
    assert got["cls_accuracy_threshold"] == 2.5
    assert got["cls_average_precision"] == 1.0
    assert evaluator.primary_metric == "cls_average_precision"
    lines = (tmp_path / "ClassificationEvaluator_cls_results.csv").read_text().splitlines()
    assert lines[0] == "epoch,steps,Accuracy,Accuracy_Threshold,F1,F1_Threshold,Precision,Recall,Average_Precision"
    assert lines[1].startswith("0,5,1.0,2.5,1.0,2.5,1.0,1.0,1.0")


def test_classification_errors() -> None:
    with pytest.raises(ValueError) as info:
        ClassificationEvaluator([("a", "b")], [1, 0])
    assert str(info.value) == (
        "ClassificationEvaluator: got 1 sentence pairs and 2 labels; pass exactly one label per pair."
    )
    with pytest.raises(ValueError) as info:
        ClassificationEvaluator([], [])
    assert str(info.value) == "ClassificationEvaluator: got no sentence pairs; pass at least one (text_a, text_b) pair."
    with pytest.raises(ValueError, match=r"^ClassificationEvaluator: labels must be integer class ids; got values"):
        ClassificationEvaluator([("a", "b")], [0.5])


def test_classification_multiclass_label_out_of_range() -> None:
    class ThreeLabels:
        def predict(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
            return np.eye(3)[: len(pairs)]

    evaluator = ClassificationEvaluator([("a", "b"), ("c", "d")], [0, 5], write_csv=False)
    with pytest.raises(ValueError) as info:
        evaluator(ThreeLabels())
    assert str(info.value) == (
        "ClassificationEvaluator: the model has 3 outputs but labels include [5]; labels must be class ids in [0, 2]."
    )


def test_correlation_values_and_errors() -> None:
    pairs = [("q", "a"), ("q", "bb"), ("q", "ccc")]
    got = CorrelationEvaluator(pairs, [0.1, 0.5, 0.4], name="sts", write_csv=False)(LengthModel())
    assert got["sts_spearman"] == pytest.approx(0.5)
    assert got["sts_pearson"] == pytest.approx(0.720576692122892)
    with pytest.raises(ValueError) as info:
        CorrelationEvaluator(pairs, [0.1, 0.2])
    assert str(info.value) == (
        "CorrelationEvaluator: got 3 sentence pairs and 2 scores; pass exactly one score per pair."
    )
    with pytest.raises(ValueError) as info:
        CorrelationEvaluator(pairs[:2], [0.1, math.nan])
    assert str(info.value) == (
        "CorrelationEvaluator: gold scores must be finite numbers; found 1 NaN or infinite values. "
        "Drop or fix those rows."
    )


def test_sequential_evaluator() -> None:
    pairs = [("q", "a"), ("q", "bb"), ("q", "ccc")]
    first = CorrelationEvaluator(pairs, [0.1, 0.2, 0.3], name="a", write_csv=False)
    second = ClassificationEvaluator(pairs, [0, 0, 1], name="b", write_csv=False)
    combined = SequentialEvaluator([first, second], main_score_function=lambda s: float(np.mean(s)))
    got = combined(LengthModel())
    assert got["sequential_score"] == pytest.approx((1.0 + 1.0) / 2)
    assert combined.primary_metric == "sequential_score"
    assert "a_pearson" in got and "b_f1" in got
    assert SequentialEvaluator([first, second])(LengthModel())["sequential_score"] == 1.0
