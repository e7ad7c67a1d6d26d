"""The real CLI, end to end, on a slice of the bundled WikiQA demo with the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossrank.cli import main

pytestmark = pytest.mark.integration
QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "config.yaml"


def test_quickstart_config_trains_and_moves_metrics(minilm_path: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    rc = main([
        "train", str(QUICKSTART), "--data.train.limit", "96", "--evaluator.max_queries", "12",
        "--model.max_length", "96", "--training.output_dir", str(tmp_path / "run"),
        "--training.disable_tqdm", "true", "--training.max_steps", "6",
    ])
    assert rc == 0
    metrics = json.loads((tmp_path / "run" / "final-metrics.json").read_text())
    keys = {f"wikiqa-dev_{kind}{m}" for kind in ("", "base_") for m in ("map", "mrr@10", "ndcg@10")}
    fused = {f"wikiqa-dev_fused_{m}" for m in ("map", "mrr@10", "ndcg@10")}
    assert set(metrics["before"]) == keys and set(metrics["after"]) == keys | fused
    assert metrics["before"]["wikiqa-dev_map"] != metrics["after"]["wikiqa-dev_map"]
    assert metrics["before"]["wikiqa-dev_base_map"] == metrics["after"]["wikiqa-dev_base_map"]
    assert 0.0 <= metrics["after"]["wikiqa-dev_map"] <= 1.0
    saved = json.loads((tmp_path / "run" / "final" / "config.json").read_text())
    assert saved["architectures"] == ["BertForSequenceClassification"]
    assert saved["sentence_transformers"]["activation_fn"] == "torch.nn.modules.activation.Sigmoid"
    out = capsys.readouterr().out
    assert "wikiqa-dev_ndcg@10" in out and "First-stage fusion: weight " in out
    assert 0.0 <= saved["crossrank_fusion"]["weight"] <= 1.0
