"""The ``warm_start:`` section of ``crossrank train``: parsing, and a run on the tiny BERT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import BertTokenizerFast

from crossrank.cli import main
from crossrank.options import OptionError
from crossrank.pipeline.config import train_config
from crossrank.pipeline.warm import texts_of, warm_spec

ROWS = [
    {"question": "what is the capital of france", "sentence": "paris is the capital city of france", "label": 1},
    {"question": "what is the capital of france", "sentence": "the dog is a big animal and a cat is small",
     "label": 0},
    {"question": "who wrote the book", "sentence": "the author wrote the first book about the moon", "label": 1},
    {"question": "who wrote the book", "sentence": "the river in the old city is big", "label": 0},
    {"question": "where is the river", "sentence": "the river is in the city of paris in france", "label": 1},
    {"question": "where is the river", "sentence": "a star is not a planet and the sun is a star", "label": 0},
]


def test_warm_spec_defaults_seed_and_errors() -> None:
    spec = warm_spec(True, seed=7)
    assert spec is not None and spec.config.seed == 7 and spec.config.teacher == "hybrid"
    assert spec.sources.train_queries and spec.sources.keep_if_better
    assert warm_spec(False) is None and warm_spec(None) is None
    given = warm_spec({"teacher": "bm25", "budget_s": "60", "seed": 3, "corpus": "c.jsonl"}, seed=7)
    assert given is not None and given.config.budget_s == 60.0 and given.config.seed == 3
    assert given.sources.corpus == "c.jsonl"
    with pytest.raises(OptionError, match=r"unknown warm_start option\(s\) \['budget'\]; accepted keys are"):
        warm_spec({"budget": 60})
    with pytest.raises(OptionError, match="Unknown teacher 'dense'; expected one of embedder, bm25, hybrid."):
        warm_spec({"teacher": "dense"})
    with pytest.raises(OptionError, match=r"warm_start: WarmStartConfig: hybrid_weight must be in \[0, 1\]"):
        warm_spec({"hybrid_weight": 2})
    with pytest.raises(OptionError, match="warm_start: expected true, false or a mapping"):
        warm_spec(3)
    config = train_config({"model": "m", "data": {"train": "t.jsonl"}, "seed": 5, "warm_start": {"teacher": "bm25"}})
    assert config.warm_start is not None and config.warm_start.config.seed == 5


def test_texts_of_training_rows() -> None:
    from datasets import Dataset

    queries, docs = texts_of(Dataset.from_list(ROWS))
    assert queries == ["what is the capital of france", "who wrote the book", "where is the river"]
    assert docs == [r["sentence"] for r in ROWS]
    lists = Dataset.from_dict({"query": ["q"], "documents": [["a", "b", " "]], "labels": [[1.0, 0.0, 0.0]]})
    assert texts_of(lists) == (["q"], ["a", "b"])


def test_train_with_a_warm_start_reports_each_step(tiny_bert: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("bm25s")
    BertTokenizerFast(vocab=str(tiny_bert / "vocab.txt"), do_lower_case=True).save_pretrained(tiny_bert)
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"model: {{name_or_path: {tiny_bert}, max_length: 48}}\n"
        "data: {train: rows.jsonl}\n"
        "evaluator: {type: reranking, data: rows.jsonl, name: toy}\n"
        f"training: {{output_dir: {tmp_path / 'run'}, max_steps: 2, per_device_train_batch_size: 2, "
        "use_cpu: true, disable_tqdm: true}\n"
        "warm_start: {teacher: bm25, num_lists: 10, min_words: 3, max_words: 4, top_k: 2, sampled: 1, depth: 4, "
        "max_steps: 3, batch_size: 2, max_length: 48}\n"
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["train", str(cfg)]) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "Warm start from bm25:" in out and "3/3 steps" in out and "(3 user queries," in out
    assert f"{'metric':<12}{'1st stage':>11}{'teacher':>10}{'warm':>10}{'finetuned':>11}{'fused':>10}" in out
    metrics = json.loads((tmp_path / "run" / "final-metrics.json").read_text())
    assert set(metrics) == {"before", "after", "teacher", "warm_start"}
    assert metrics["warm_start"] == metrics["before"] and set(metrics["teacher"]) >= {"toy_map", "toy_ndcg@10"}
    assert metrics["teacher"]["toy_map"] == 1.0
