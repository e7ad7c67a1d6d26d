"""Evaluator behaviour without the reference: exact values, keys, CSV logs and error messages."""

from __future__ import annotations

import json
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
from crossrank.evaluation.beir import BEIRData, BEIREvaluator, load_beir_folder


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


def test_ranked_first_stage_is_on_the_reranked_basis() -> None:
    samples = [{"query": "q1", "positive": ["p1", "p2"], "documents": ["n1", "p1", "n2"],
                "first_stage_scores": [0.9, 0.5, 0.1]},  # p2 was missed by the first stage
               {"query": "q2", "positive": ["p3"], "documents": ["n3", "n4"], "first_stage_scores": [0.8, 0.2]}]
    evaluator = RerankingEvaluator(samples, write_csv=False, always_rerank_positives=False)  # fit's realistic mode
    one = 1 / math.log2(3)
    assert evaluator.ranked_first_stage() == {"map": pytest.approx(0.25), "mrr@10": pytest.approx(0.25),
                                              "ndcg@10": pytest.approx(one / 2)}
    base = evaluator(LengthModel())["base_ndcg@10"]  # the missed p2 counts, placed after the list (rank 4)
    assert base == pytest.approx((one + 1 / math.log2(5)) / (1 + one) / 2)


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


def _write_beir(folder: Path, qrels: str) -> Path:
    folder.mkdir()
    docs = [{"_id": "d1", "title": "Paris", "text": "capital of france"}, {"_id": "d2", "text": "a cat"},
            {"_id": "d3", "text": "the moon and the sun"}]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    queries = [{"_id": "q1", "text": "capital of france"}, {"_id": "q2", "text": "moon"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (folder / "qrels.tsv").write_text(qrels)
    return folder


def test_beir_folder_loading_and_precomputed_run(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "toy", "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td3\t1\nq2\td2\t0\n")
    data = load_beir_folder(folder)
    assert data.name == "toy"
    assert data.corpus["d1"] == "Paris capital of france"
    assert data.qrels == {"q1": {"d1": 2.0}, "q2": {"d3": 1.0, "d2": 0.0}}
    run = {"toy": {"q1": ["d2", "d1", "d3"], "q2": ["d3", "d2", "d1"]}}
    model = LengthModel()
    evaluator = BEIREvaluator([folder], retriever=run, rerank_k=2, name="Toy", write_csv=False)
    got = evaluator(model)
    assert model.calls == 1
    assert got["toy_R2_base_mrr@10"] == pytest.approx((0.5 + 1.0) / 2)
    assert got["toy_R2_mrr@10"] == 1.0  # the longest text is relevant for both queries
    assert evaluator.primary_metric == "Toy_R2_mean_ndcg@10"
    assert got["Toy_R2_mean_ndcg@10"] == got["toy_R2_ndcg@10"]


def test_beir_bm25_first_stage(tmp_path: Path) -> None:
    pytest.importorskip("bm25s")
    folder = _write_beir(tmp_path / "toy", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    evaluator = BEIREvaluator([folder], rerank_k=2, write_csv=False)
    got = evaluator(LengthModel())
    assert got["toy_R2_base_mrr@10"] == 1.0


def test_beir_errors(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "bad", "query-id\tcorpus-id\tscore\nq1\td9\t1\nq1\td8\t1\n")
    with pytest.raises(ValueError) as info:
        load_beir_folder(folder)
    assert str(info.value) == (
        "bad: the qrels name 2 documents that are not in the corpus (e.g. ['d8', 'd9']); check that the qrels "
        "and the corpus come from the same dataset."
    )
    data = BEIRData("Toy", {"d1": "x"}, {"q1": "y"}, {"q7": {"d1": 1.0}})
    with pytest.raises(ValueError) as info:
        BEIREvaluator([data], retriever={"Toy": {}})
    assert str(info.value) == (
        "Toy: the qrels name 1 queries that are not in the queries file (e.g. ['q7']); pass the queries file "
        "of the same split."
    )
    with pytest.raises(ValueError) as info:
        BEIREvaluator([])
    assert str(info.value) == "BEIREvaluator needs at least one dataset; got none. Pass BEIR folders or BEIRData."
    with pytest.raises(FileNotFoundError, match=r"^BEIR folder '.*missing' does not exist"):
        load_beir_folder(tmp_path / "missing")


class FusedLengthModel(LengthModel):
    """LengthModel that stores a first-stage fusion, as a trained CrossEncoder does."""

    activation_fn = None

    def __init__(self, weight: float) -> None:
        from crossrank.inference.fusion import Fusion

        super().__init__()
        self.fusion = Fusion(weight)

    def logits(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
        return self.predict(pairs, **kwargs)[:, None]


def test_beir_fusion_with_scored_run(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "toy", "query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t1\n")
    # the first stage ranks the relevant document first; the length model ranks d1 > d3 > d2
    run = {"toy": {"q1": {"d1": 0.1, "d2": 0.9, "d3": 0.5}, "q2": {"d3": 2.0, "d2": 1.0, "d1": 0.0}}}
    evaluator = BEIREvaluator([folder], retriever=run, rerank_k=3, always_rerank_positives=False, write_csv=False)
    assert evaluator.has_first_stage
    assert evaluator.evaluators[0].lists[0].first_stage == [0.9, 0.5, 0.1]  # sorted by score, best first
    alone = evaluator(FusedLengthModel(0.0))
    follow = evaluator(FusedLengthModel(1.0))
    assert alone["toy_R3_fused_mrr@10"] == alone["toy_R3_mrr@10"] == (1 / 3 + 1 / 2) / 2
    assert follow["toy_R3_fused_mrr@10"] == follow["toy_R3_base_mrr@10"] == 1.0
    assert follow["BEIR_R3_mean_fused_ndcg@10"] == 1.0
    fusion, curve = evaluator.tune_fusion(FusedLengthModel(0.0), weights=[0.0, 0.5, 1.0], rule="best")
    # at 0.5, q1's relevant d2 comes second (NDCG 1/log2(3)) and q2's d3 first
    assert curve[0.5] == pytest.approx((1 / math.log2(3) + 1) / 2)
    assert curve[0.0] < curve[0.5] < curve[1.0] == 1.0
    assert fusion.weight == 1.0


def test_beir_fusion_needs_scores_of_every_document(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "toy", "query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t1\n")
    run = {"toy": {"q1": {"d1": 0.1, "d2": 0.9}, "q2": {"d3": 2.0, "d2": 1.0}}}
    evaluator = BEIREvaluator([folder], retriever=run, rerank_k=2, write_csv=False)
    assert not evaluator.has_first_stage
    assert "toy_R2_fused_map" not in evaluator(FusedLengthModel(0.5))
    with pytest.raises(ValueError) as info:
        evaluator.tune_fusion(FusedLengthModel(0.5))
    assert str(info.value) == (
        "BEIR_R2_mean has no first-stage scores to fuse: build it with always_rerank_positives=False and a "
        "BM25/embedder first stage or a run of {doc id: score}."
    )
