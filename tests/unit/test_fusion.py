"""First-stage score fusion: the pure maths, the evaluator's fused metrics and tuning, the model and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import build_tiny_bert

from crossrank.evaluation import RerankingEvaluator
from crossrank.inference.fusion import Fusion, FusionList, normalize_scores, tune_fusion


def test_normalize_scores_exact() -> None:
    np.testing.assert_allclose(normalize_scores([1.0, 2.0, 3.0], "zscore"), [-1.224744871, 0.0, 1.224744871])
    np.testing.assert_allclose(normalize_scores([1.0, 2.0, 5.0], "minmax"), [0.0, 0.25, 1.0])
    np.testing.assert_allclose(normalize_scores([1.0, 2.0], "none"), [1.0, 2.0])
    np.testing.assert_array_equal(normalize_scores([4.0, 4.0], "zscore"), [0.0, 0.0])
    with pytest.raises(ValueError, match="fusion needs finite scores; found NaN or infinite values"):
        normalize_scores([1.0, float("nan")])


def test_fusion_apply_and_checks() -> None:
    fused = Fusion(0.25, "minmax").apply([0.0, 10.0, 5.0], [1.0, 0.0, 3.0])
    np.testing.assert_allclose(fused, [0.75 * 0.0 + 0.25 / 3, 0.75, 0.75 * 0.5 + 0.25])
    with pytest.raises(ValueError, match=r"fusion weight must be in \[0, 1\]; found 1.5"):
        Fusion(1.5)
    with pytest.raises(ValueError, match="2 reranker scores but 3 first-stage scores"):
        Fusion(0.5).apply([1.0, 2.0], [1.0, 2.0, 3.0])
    assert Fusion.from_dict(Fusion(0.3, "minmax", "dev map").to_dict()) == Fusion(0.3, "minmax")
    assert Fusion.from_dict(None) is None


def _ap(gains: list[float], scores: np.ndarray) -> float:
    from crossrank.evaluation.metrics import average_precision

    return average_precision(gains, scores)


def test_tune_fusion_picks_smallest_best_weight() -> None:
    # the reranker ranks the positive last, the first stage ranks it first: any weight above 0.5 is perfect
    lists = [FusionList([1.0, 0.0, 0.0], np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 0.0]))]
    fusion, curve = tune_fusion(lists, _ap, tuned_on="toy map", rule="best")
    assert fusion.weight == 0.55 and fusion.tuned_on == "toy map"
    assert curve[0.0] == pytest.approx(1 / 3) and curve[1.0] == 1.0 and len(curve) == 21
    # the plateau rule takes the middle of the tied weights 0.55 ... 1.0
    assert tune_fusion(lists, _ap)[0].weight == 0.75
    with pytest.raises(ValueError, match="rule must be 'plateau' or 'best'; found 'max'"):
        tune_fusion(lists, _ap, rule="max")  # type: ignore[arg-type]


def test_plateau_rule_uses_the_paired_standard_error() -> None:
    from crossrank.inference.fusion import _plateau_median

    per_query = {0.0: np.array([0.5, 0.7, 0.9, 0.3]), 0.5: np.array([0.6, 0.8, 1.0, 0.4]),
                 1.0: np.array([0.0, 0.1, 0.2, 0.0])}
    # 0.0 trails 0.5 by exactly 0.1 on every query (standard error 0): not tied; 1.0 is far behind
    assert _plateau_median(per_query, 0.5) == 0.5
    per_query[0.0] = np.array([0.5, 0.85, 1.0, 0.4])  # mean gap 0.0125, standard error 0.032: tied
    assert _plateau_median(per_query, 0.5) == 0.0


class TableModel:
    """A stand-in reranker: the logit of a pair is looked up by document text."""

    activation_fn = torch.nn.Sigmoid()

    def __init__(self, logits: dict[str, float], fusion: Fusion | None = None) -> None:
        self.table, self.fusion = logits, fusion

    def logits(self, pairs: list, batch_size: int = 32, show_progress_bar: bool = False) -> np.ndarray:
        return np.array([[self.table[doc]] for _, doc in pairs], dtype=np.float64)

    def predict(self, pairs: list, batch_size: int = 32, convert_to_numpy: bool = True,
                show_progress_bar: bool = False) -> np.ndarray:
        raw = torch.from_numpy(self.logits(pairs)[:, 0])
        return self.activation_fn(raw).numpy()


SAMPLES = [
    {"query": "q1", "positive": ["p1"], "documents": ["p1", "n1", "n2"], "first_stage_scores": [0.9, 0.5, 0.1]},
    {"query": "q2", "positive": ["p2"], "documents": ["n3", "n4"], "first_stage_scores": [0.8, 0.2]},
]
LOGITS = {"p1": 0.0, "n1": 0.5, "n2": -3.0, "p2": 3.0, "n3": 0.0, "n4": -1.0}


def test_evaluator_reorders_first_stage_scores_with_positives() -> None:
    evaluator = RerankingEvaluator(SAMPLES, name="toy")
    assert evaluator.has_first_stage
    # q2's positive was missed by the first stage: it is scored anyway and gets the list's lowest score
    assert evaluator.lists[1].documents == ["p2", "n3", "n4"] and evaluator.lists[1].first_stage == [0.2, 0.8, 0.2]
    with pytest.raises(ValueError, match="sample 0: expected 3 finite 'first_stage_scores'"):
        RerankingEvaluator([{**SAMPLES[0], "first_stage_scores": [1.0, 2.0]}])
    with pytest.raises(ValueError, match="'first_stage_scores' go with a ranked 'documents' list"):
        RerankingEvaluator([{"query": "q", "positive": ["a"], "negative": ["b"], "first_stage_scores": [1, 2]}])


def test_evaluator_fused_metrics_and_tuning() -> None:
    evaluator = RerankingEvaluator(SAMPLES, name="toy", write_csv=False)
    plain = evaluator(TableModel(LOGITS))
    assert "toy_fused_map" not in plain and plain["toy_map"] == pytest.approx((0.5 + 1.0) / 2)
    fusion, curve = evaluator.tune_fusion(TableModel(LOGITS), rule="best")
    # q1 needs weight > 0.21 to lift its positive; q2's reranker is right and tolerates up to 0.45
    assert fusion.weight == 0.25 and curve[0.0] == pytest.approx(0.75) and fusion.tuned_on == "toy map"
    fused = evaluator(TableModel(LOGITS, fusion))
    assert fused["toy_map"] == plain["toy_map"] and fused["toy_fused_map"] == 1.0
    assert fused["toy_fused_mrr@10"] == 1.0
    with pytest.raises(ValueError, match="fusion can be tuned for one of"):
        evaluator.tune_fusion(TableModel(LOGITS), metric="recall")


def test_model_rank_fuses_and_persists(tiny_bert: Path, tmp_path: Path) -> None:
    from crossrank import CrossEncoder

    model = CrossEncoder(tiny_bert, device="cpu")
    docs = ["the cat", "paris is the capital", "a river"]
    with pytest.raises(ValueError, match="this model stores no fusion weight"):
        model.rank("capital", docs, first_stage_scores=[0.1, 0.2, 0.3])
    model.fusion = Fusion(1.0, tuned_on="dev map")
    ranked = model.rank("capital", docs, first_stage_scores=[0.1, 0.9, 0.5])
    assert [r["corpus_id"] for r in ranked] == [1, 2, 0]
    expected = model.predict([("capital", d) for d in docs])
    assert [r["reranker_score"] for r in ranked] == pytest.approx([expected[1], expected[2], expected[0]])
    model.save_pretrained(tmp_path / "saved")
    assert CrossEncoder(tmp_path / "saved", device="cpu").fusion == Fusion(1.0)
    assert json.loads((tmp_path / "saved" / "config.json").read_text())["crossrank_fusion"]["weight"] == 1.0


def test_add_first_stage_scores_orders_by_cosine(tmp_path: Path) -> None:
    from crossrank.embedder import Embedder
    from crossrank.mining.eval_samples import add_first_stage_scores

    embedder = Embedder(build_tiny_bert(tmp_path / "enc", head=False), device="cpu")
    samples = [{"query": "the capital", "positive": ["paris is the capital"], "negative": ["a dog", "a dog"]}]
    [out] = add_first_stage_scores(samples, embedder)
    emb = embedder.encode(["the capital", "paris is the capital", "a dog"])
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    expected = {"paris is the capital": float(emb[1] @ emb[0]), "a dog": float(emb[2] @ emb[0])}
    assert sorted(out["documents"]) == sorted(expected) and out["positive"] == ["paris is the capital"]
    assert out["first_stage_scores"] == pytest.approx([expected[d] for d in out["documents"]], abs=1e-6)
    assert out["first_stage_scores"] == sorted(out["first_stage_scores"], reverse=True)


def test_train_cli_tunes_and_stores_fusion(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from test_cli import write_config

    from crossrank.cli import main

    encoder = build_tiny_bert(tmp_path / "enc", head=False)
    cfg = write_config(tmp_path, tiny_bert)
    cfg.write_text(cfg.read_text().replace("name: toy}", f"name: toy, first_stage: {encoder}}}"))
    assert main(["train", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "First-stage fusion: weight " in out and "tuned on toy map" in out
    metrics = json.loads((tmp_path / "run" / "final-metrics.json").read_text())
    assert {"toy_base_map", "toy_fused_map"} <= set(metrics["after"]) and "toy_fused_map" not in metrics["before"]
    stored = json.loads((tmp_path / "run" / "final" / "config.json").read_text())["crossrank_fusion"]
    assert stored["tuned_on"] == "toy map" and 0.0 <= stored["weight"] <= 1.0


def test_train_cli_rejects_unknown_fusion_keys(tiny_bert: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    from test_cli import write_config

    from crossrank.cli import main

    encoder = build_tiny_bert(tmp_path / "enc", head=False)
    cfg = write_config(tmp_path, tiny_bert, "fusion: {weight: 0.5}\n")
    cfg.write_text(cfg.read_text().replace("name: toy}", f"name: toy, first_stage: {encoder}}}"))
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == ("crossrank train: error: unknown key(s) ['weight'] in section 'fusion'; "
                   "expected metric, normalize, weights, rule.")
