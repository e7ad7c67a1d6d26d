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
    metrics = load_bench("bench_stsb").main([*TINY, "--results-dir", str(results)])
    assert set(metrics) == {"stsb-test_pearson", "stsb-test_spearman"}
    text = (results / "stsb.md").read_text()
    assert "test Spearman" in text and "- command: `python bench/bench_stsb.py --limit 16" in text
    assert "- machine:" in text and "- date:" in text


def test_mrpc_bench_writes_classification_table(results: Path) -> None:
    metrics = load_bench("bench_mrpc").main([*TINY, "--results-dir", str(results)])
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
