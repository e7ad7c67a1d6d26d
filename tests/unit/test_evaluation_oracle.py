"""Oracle tests: for the same predictions, crossrank's evaluators equal the reference's to 1e-6."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
import pytest

from crossrank.evaluation import ClassificationEvaluator, CorrelationEvaluator, RerankingEvaluator
from crossrank.evaluation.beir import BEIRData, BEIREvaluator

pytestmark = pytest.mark.oracle

st_eval = pytest.importorskip("sentence_transformers.cross_encoder.evaluation")


class FakeModel:
    """Deterministic pseudo-random score per (query, document) pair; usable by both libraries."""

    def __init__(self, num_labels: int = 1, salt: str = "") -> None:
        self.num_labels = num_labels
        self.salt = salt
        self.calls = 0
        self.model_card_data = _NoCard()

    def _score(self, pair: Any) -> np.ndarray:
        digest = hashlib.sha256((self.salt + "\x1f".join(pair)).encode()).digest()
        values = np.frombuffer(digest, dtype=np.uint32)[: self.num_labels] / 2**32
        return values.astype(np.float32)

    def predict(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
        self.calls += 1
        scores = np.stack([self._score(p) for p in pairs]) if pairs else np.zeros((0, self.num_labels))
        return scores[:, 0] if self.num_labels == 1 else scores


class _NoCard:
    def set_evaluation_metrics(self, *args: Any, **kwargs: Any) -> None:
        return None


def _samples(mode: str, seed: int = 0, n: int = 25) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    samples = []
    for q in range(n):
        docs = [f"doc {q}-{i}" for i in range(int(rng.integers(3, 30)))]
        positives = [d for d in docs if rng.random() < 0.2] or [docs[int(rng.integers(len(docs)))]]
        if q % 5 == 0:
            positives.append(f"missing positive {q}")  # never in the first-stage list
        if q == 7:
            positives = ["only missing"]  # first stage found nothing relevant
        if mode == "negative":
            negatives = [d for d in docs if d not in positives]
            samples.append({"query": f"q{q}", "positive": positives, "negative": negatives})
        else:
            order = rng.permutation(len(docs))
            samples.append({"query": f"q{q}", "positive": positives, "documents": [docs[i] for i in order]})
    return samples


@pytest.mark.parametrize(
    ("mode", "always", "at_k"),
    [("negative", True, 10), ("documents", True, 10), ("documents", False, 10), ("documents", True, 5)],
)
def test_reranking_matches_reference(mode: str, always: bool, at_k: int) -> None:
    samples = _samples(mode, seed=at_k)
    ours_model, ref_model = FakeModel(), FakeModel()
    ours = RerankingEvaluator(samples, at_k=at_k, always_rerank_positives=always, name="dev", write_csv=False)
    ref = st_eval.CrossEncoderRerankingEvaluator(
        samples, at_k=at_k, always_rerank_positives=always, name="dev", write_csv=False
    )
    got, want = ours(ours_model), ref(ref_model)
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
    assert ours.primary_metric == ref.primary_metric == f"dev_ndcg@{at_k}"
    assert ours_model.calls == 1
    if mode == "documents":
        assert f"dev_base_ndcg@{at_k}" in got


def test_reranking_matches_reference_without_name() -> None:
    samples = _samples("documents", seed=3)
    ours = RerankingEvaluator(samples, write_csv=False)
    ref = st_eval.CrossEncoderRerankingEvaluator(samples, write_csv=False)
    got, want = ours(FakeModel()), ref(FakeModel())
    assert got == pytest.approx(want, abs=1e-6)
    assert ours.primary_metric == "ndcg@10"


def test_reranking_tied_scores_match_reference() -> None:
    class Constant(FakeModel):
        def predict(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
            return np.array([float(len(p[1]) % 3) for p in pairs], dtype=np.float32)

    samples = [
        {"query": "q", "positive": ["aa", "bbbb"], "negative": ["c", "ddd", "eeeee", "ff", "g"]},
        {"query": "r", "positive": ["xyz"], "documents": ["ab", "xyz", "abc", "abcd"]},
    ]
    got = RerankingEvaluator(samples, write_csv=False)(Constant())
    want = st_eval.CrossEncoderRerankingEvaluator(samples, write_csv=False)(Constant())
    assert got == pytest.approx(want, abs=1e-6)


def test_reranking_csv_written(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    samples = _samples("documents", seed=1, n=5)
    evaluator = RerankingEvaluator(samples, name="dev")
    with caplog.at_level(logging.INFO, logger="crossrank.evaluation.reranking"):
        evaluator(FakeModel(), output_path=str(tmp_path), epoch=1, steps=10)
        evaluator(FakeModel(), output_path=str(tmp_path), epoch=2, steps=20)
    lines = (tmp_path / "RerankingEvaluator_dev_results_@10.csv").read_text().splitlines()
    assert lines[0] == "epoch,steps,MAP,MRR@10,NDCG@10"
    assert [line.split(",")[:2] for line in lines[1:]] == [["1", "10"], ["2", "20"]]
    assert "reranked" in caplog.text


def _pairs(n: int, seed: int) -> tuple[list[tuple[str, str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    pairs = [(f"a{i}", f"b{i}") for i in range(n)]
    return pairs, rng


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_classification_matches_reference(seed: int) -> None:
    pairs, rng = _pairs(60, seed)
    labels = rng.integers(0, 2, len(pairs)).tolist()
    ours = ClassificationEvaluator(pairs, labels, name="mrpc", write_csv=False)
    ref = st_eval.CrossEncoderClassificationEvaluator(pairs, labels, name="mrpc", write_csv=False)
    got, want = ours(FakeModel(salt=str(seed))), ref(FakeModel(salt=str(seed)))
    assert list(got) == list(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
    assert ours.primary_metric == ref.primary_metric == "mrpc_average_precision"


def test_multiclass_classification_matches_reference() -> None:
    pairs, rng = _pairs(80, 5)
    labels = rng.integers(0, 3, len(pairs)).tolist()
    ours = ClassificationEvaluator(pairs, labels, name="nli", write_csv=False)
    ref = st_eval.CrossEncoderClassificationEvaluator(pairs, labels, name="nli", write_csv=False)
    got, want = ours(FakeModel(num_labels=3)), ref(FakeModel(num_labels=3))
    assert got == pytest.approx(want, abs=1e-6)
    assert list(got) == list(want)
    assert ours.primary_metric == ref.primary_metric == "nli_f1_macro"


def test_correlation_matches_reference() -> None:
    pairs, rng = _pairs(70, 9)
    gold = np.round(rng.random(len(pairs)) * 5, 1).tolist()  # rounded: ties in the gold scores
    ours = CorrelationEvaluator(pairs, gold, name="sts", write_csv=False)
    ref = st_eval.CrossEncoderCorrelationEvaluator(pairs, gold, name="sts", write_csv=False)
    got, want = ours(FakeModel()), ref(FakeModel())
    assert got == pytest.approx(want, abs=1e-6)
    assert list(got) == list(want)
    assert ours.primary_metric == ref.primary_metric == "sts_spearman"


def _toy_beir(seed: int, graded: bool) -> tuple[BEIRData, dict[str, list[str]]]:
    rng = np.random.default_rng(seed)
    corpus = {f"d{i}": f"document text number {i}" for i in range(60)}
    queries = {f"q{i}": f"query {i}" for i in range(12)}
    qrels: dict[str, dict[str, float]] = {}
    run: dict[str, list[str]] = {}
    for q in queries:
        judged = rng.choice(60, size=8, replace=False)
        qrels[q] = {f"d{j}": float(rng.integers(1, 4) if graded else 1) for j in judged[:4]}
        qrels[q].update({f"d{j}": 0.0 for j in judged[4:]})
        run[q] = [f"d{j}" for j in rng.permutation(60)[:20]]
    return BEIRData("Toy", corpus, queries, qrels), run


@pytest.mark.parametrize("always", [True, False])
def test_beir_per_dataset_matches_reference_reranking(always: bool) -> None:
    data, run = _toy_beir(0, graded=False)
    ours = BEIREvaluator([data], retriever={"Toy": run}, rerank_k=15, always_rerank_positives=always, write_csv=False)
    samples = [
        {
            "query": data.queries[q],
            "positive": [data.corpus[d] for d, g in data.qrels[q].items() if g > 0],
            "documents": [data.corpus[d] for d in run[q][:15]],
        }
        for q in data.qrels
    ]
    ref = st_eval.CrossEncoderRerankingEvaluator(samples, always_rerank_positives=always, name="Toy_R15")
    got, want = ours(FakeModel()), ref(FakeModel())
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
        assert got[key.replace("Toy_R15", "BEIR_R15_mean")] == pytest.approx(value, abs=1e-6)
    assert ours.primary_metric == "BEIR_R15_mean_ndcg@10"


@pytest.mark.parametrize("graded", [False, True])
def test_beir_ndcg_matches_ir_measures(graded: bool) -> None:
    ir_measures = pytest.importorskip("ir_measures")
    data, run = _toy_beir(1, graded=True)  # grades 1-3; binary mode counts them all as 1
    gains = "graded" if graded else "binary"
    evaluator = BEIREvaluator([data], retriever={"Toy": run}, rerank_k=20, ndcg_gains=gains, write_csv=False)
    model = FakeModel(salt="ir")
    got = evaluator(model)
    qrels = [ir_measures.Qrel(q, d, int(g)) for q, judged in data.qrels.items() for d, g in judged.items()]
    base_run = [ir_measures.ScoredDoc(q, d, float(100 - r)) for q, docs in run.items() for r, d in enumerate(docs)]
    reranked_run = []
    for q, judged in data.qrels.items():  # every positive plus the first-stage top 20, as evaluated
        docs = dict.fromkeys([d for d, g in judged.items() if g > 0] + run[q])
        for d in docs:
            reranked_run.append(ir_measures.ScoredDoc(q, d, float(model._score((data.queries[q], data.corpus[d]))[0])))
    measure = ir_measures.nDCG @ 10 if graded else ir_measures.nDCG(gains={0: 0, 1: 1, 2: 1, 3: 1}) @ 10
    want_base = ir_measures.calc_aggregate([measure], qrels, base_run)[measure]
    want = ir_measures.calc_aggregate([measure], qrels, reranked_run)[measure]
    assert got["Toy_R20_base_ndcg@10"] == pytest.approx(want_base, abs=1e-6)
    assert got["Toy_R20_ndcg@10"] == pytest.approx(want, abs=1e-6)
