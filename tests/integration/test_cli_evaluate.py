"""``crossrank evaluate`` called in-process on small files with the tiny BERT fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossrank.cli import main


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_evaluate_reranking_from_labeled_pairs(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = [
        {"qid": "1", "question": "capital of france", "sentence": "paris is the capital", "label": 1},
        {"qid": "1", "question": "capital of france", "sentence": "a cat", "label": 0},
        {"qid": "2", "question": "what is the moon", "sentence": "the moon is a planet", "label": 1},
        {"qid": "2", "question": "what is the moon", "sentence": "a dog", "label": 0},
    ]
    data = _write_jsonl(tmp_path / "pairs.jsonl", rows)
    out = tmp_path / "metrics.json"
    code = main(["evaluate", str(tiny_bert), "--data", str(data), "--evaluator", "reranking", "--name", "demo",
                 "--out", str(out)])
    assert code == 0
    written = json.loads(out.read_text())
    assert written["primary_metric"] == "demo_ndcg@10"
    assert sorted(written["metrics"]) == ["demo_map", "demo_mrr@10", "demo_ndcg@10"]
    assert "primary metric: demo_ndcg@10" in capsys.readouterr().out


def test_evaluate_correlation_and_classification(tiny_bert: Path, tmp_path: Path) -> None:
    rows = [{"sentence1": f"the cat {i}", "sentence2": f"a dog {i % 3}", "label": i % 2} for i in range(6)]
    data = _write_jsonl(tmp_path / "pairs.jsonl", rows)
    out = tmp_path / "m.json"
    assert main(["evaluate", str(tiny_bert), "--data", str(data), "--evaluator", "classification",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["primary_metric"] == "average_precision"
    assert main(["evaluate", str(tiny_bert), "--data", str(data), "--evaluator", "correlation",
                 "--out", str(out)]) == 0
    assert sorted(json.loads(out.read_text())["metrics"]) == ["pearson", "spearman"]


def test_evaluate_missing_label_column(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = _write_jsonl(tmp_path / "nolabel.jsonl", [{"sentence1": "a", "sentence2": "b"}])
    code = main(["evaluate", str(tiny_bert), "--data", str(data), "--evaluator", "correlation"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "crossrank evaluate: error: no label column in ['sentence1', 'sentence2']: expected one of "
        "['label', 'labels', 'score', 'scores']; pass --label-column NAME."
    )


def test_evaluate_beir_folder(tiny_bert: Path, tmp_path: Path) -> None:
    pytest.importorskip("bm25s")
    folder = tmp_path / "toy"
    folder.mkdir()
    _write_jsonl(folder / "corpus.jsonl", [{"_id": "d1", "text": "paris is the capital of france"},
                                           {"_id": "d2", "text": "the cat"}, {"_id": "d3", "text": "the moon"}])
    _write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "capital of france"}])
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    out = tmp_path / "beir.json"
    assert main(["evaluate", str(tiny_bert), "--data", str(folder), "--evaluator", "beir", "--rerank-k", "2",
                 "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["primary_metric"] == "BEIR_R2_mean_ndcg@10"
    assert written["metrics"]["toy_R2_base_mrr@10"] == 1.0
