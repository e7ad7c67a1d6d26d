"""The quality benchmarks (STS-B, MRPC, BEIR) run end to end on a tiny slice of the shared data."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration
BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = ["--limit", "16", "--max-steps", "1", "--batch-size", "8", "--max-length", "64"]


def load_bench(name: str) -> ModuleType:
    """Import ``bench/{name}.py`` as a module (the bench folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"crossrank_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def results(tmp_path: Path, shared_data: Path, minilm_path: Path) -> Iterator[Path]:
    """A results folder for the tables (bench/results stays untouched); torch's thread count restored."""
    import torch

    threads = torch.get_num_threads()
    yield tmp_path / "results"
    torch.set_num_threads(threads)


def test_stsb_bench_writes_correlation_table(results: Path) -> None:
    argv = [*TINY, "--sick", "--teacher-weight", "0.5", "--evals-per-epoch", "2", "--results-dir", str(results)]
    metrics = load_bench("bench_stsb").main(argv)
    assert set(metrics) == {"stsb-test_pearson", "stsb-test_spearman"}
    text = (results / "stsb.md").read_text()
    assert "test Spearman" in text and "- command: `python bench/bench_stsb.py --limit 16" in text
    assert "- machine:" in text and "- date:" in text
    assert ("128 training pairs (16 STS-B train rows + 48 SICK relatedness rows (0 SICK rows left out: a sentence "
            "of theirs is in STS-B dev or test), both sentence orders)") in text
    assert "blended with bi-encoder cosine (weight 0.5)" in text and "best of 2 dev evaluation(s) per epoch" in text
    assert "| bi-encoder cosine (all-MiniLM-L6-v2, no training) |" in text
    assert "| source | pairs | crossrank | bi-encoder |\n|---|---|---|---|\n| MSRvid | 16 |" in text


def test_stsb_bench_scores_a_saved_model_without_training(results: Path, minilm_path: Path) -> None:
    metrics = load_bench("bench_stsb").main(["--limit", "16", "--model", str(minilm_path), "--results-dir",
                                             str(results)])
    assert set(metrics) == {"stsb-test_pearson", "stsb-test_spearman"}
    text = (results / "stsb.md").read_text()
    assert f"model {minilm_path} scored as it is (no training); test = 16 pairs" in text
    assert "Dev Spearman by step: (no dev evaluation)" in text


def test_stsb_sick_rows_leave_out_pairs_sharing_a_sentence_with_evaluation_splits(shared_data: Path) -> None:
    bench = load_bench("bench_stsb")
    kept, dropped = bench.sick_rows(4, [])
    assert (len(kept), dropped) == (12, 0)
    held_out = [{"sentence1": kept[0]["sentence1"].upper() + ".", "sentence2": "unrelated"}]
    kept_after, dropped_after = bench.sick_rows(4, held_out)
    shares = [r for r in kept if bench.normalised(kept[0]["sentence1"]) in
              (bench.normalised(r["sentence1"]), bench.normalised(r["sentence2"]))]
    assert dropped_after == len(shares) >= 1 and len(kept_after) == 12 - len(shares)
    assert all(0.0 <= r["score"] <= 5.0 for r in kept)


def test_stsb_bench_rejects_zero_evaluations_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        load_bench("bench_stsb").parse(["--evals-per-epoch", "0"])
    assert stop.value.code == 2
    assert ("argument --evals-per-epoch: expected a whole number of at least 1, got '0'"
            in capsys.readouterr().err)


def test_stsb_teacher_labels_keep_gold_at_weight_zero_and_stay_in_range(minilm_path: Path) -> None:
    bench = load_bench("bench_stsb")
    first = ["A man is playing a guitar.", "A cat sleeps.", "Stocks fell sharply.", "A woman is cooking."]
    second = ["A man plays the guitar.", "A dog runs in a park.", "Markets dropped a lot.", "The sky is blue."]
    gold = [0.96, 0.1, 0.8, 0.0]
    assert bench.teacher_labels(first, second, gold, 0.0) == pytest.approx(gold, abs=1e-12)
    teacher = bench.teacher_labels(first, second, gold, 1.0)
    assert all(0.0 <= t <= 1.0 for t in teacher)
    assert teacher[0] > teacher[3] and teacher[2] > teacher[3]


def test_mrpc_bench_writes_classification_table(results: Path) -> None:
    # half of the 16 rows as dev, so that it holds both classes (one class alone has no precision/recall)
    metrics = load_bench("bench_mrpc").main([*TINY, "--dev-fraction", "0.5", "--results-dir", str(results)])
    for key in ("accuracy", "f1", "precision", "recall", "average_precision"):
        assert 0.0 <= metrics[f"mrpc-test_{key}"] <= 1.0
    text = (results / "mrpc.md").read_text()
    assert "| fine-tuned (crossrank) |" in text and "average_precision" in text


def test_beir_bench_writes_bm25_vs_reranked_table(results: Path) -> None:
    argv = ["--limit", "6", "--max-steps", "1", "--batch-size", "2", "--max-length", "64", "--max-queries", "2",
            "--rerank-k", "3", "--eval-max-length", "64", "--negatives", "2", "--dev-claims", "2", "--dev-k", "3",
            "--results-dir", str(results)]
    metrics = load_bench("bench_beir").main(argv)
    for name in ("SciFact", "Cranfield"):
        for key in ("ndcg@10", "mrr@10", "map"):
            for prefix in ("", "fused_"):
                assert 0.0 <= metrics[f"{name}_R3_{prefix}{key}"] <= 1.0
            assert 0.0 <= metrics[f"bm25_{name}_R3_{key}"] <= 1.0
    assert "BEIR_R3_mean_ndcg@10" in metrics and "BEIR_R3_mean_fused_ndcg@10" in metrics
    text = (results / "beir.md").read_text()
    assert "| SciFact | 2 |" in text and "| Cranfield | 2 |" in text and "| mean |" in text
    assert "BM25 NDCG@10 | reranked NDCG@10 | fused NDCG@10" in text
    assert "ListNetLoss" in text and "BM25 fusion weight" in text and "held-out train claims" in text
