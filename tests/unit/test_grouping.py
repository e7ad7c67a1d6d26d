"""Grouping labeled pairs: evaluator samples and per-query lists for the listwise losses (incl. the CLI)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from datasets import Dataset

from crossrank.data.grouping import pairs_to_lists

ROWS = {"question": ["q1", "q2", "q1", "q3", "q2"], "sentence": ["a", "b", "c", "d", "e"],
        "label": [0.0, 1.0, 2.0, 0.0, 0.0]}


def test_pairs_to_lists_keeps_order_and_grades(caplog: pytest.LogCaptureFixture) -> None:
    logging.disable(logging.NOTSET)  # a benchmark smoke test may have silenced warnings process-wide
    lists = pairs_to_lists(Dataset.from_dict(ROWS))
    assert lists.column_names == ["question", "documents", "labels"]
    assert lists.to_list() == [{"question": "q1", "documents": ["a", "c"], "labels": [0.0, 2.0]},
                               {"question": "q2", "documents": ["b", "e"], "labels": [1.0, 0.0]}]
    assert "Grouped 5 rows into 2 query lists; dropped 1 queries whose labels are all 0" in caplog.text
    assert len(pairs_to_lists(Dataset.from_dict(ROWS), keep_unanswered=True)) == 3


def test_pairs_to_lists_errors() -> None:
    with pytest.raises(ValueError, match="no query in the 1 rows has a positive label"):
        pairs_to_lists(Dataset.from_dict({"q": ["x"], "d": ["y"], "label": [0.0]}))
    with pytest.raises(ValueError, match=r"cannot tell which column is the query and the document: \['a', 'b', "
                                         r"'c'\] could each be it"):
        pairs_to_lists(Dataset.from_dict({"a": ["x"], "b": ["y"], "c": ["z"], "label": [1.0]}))
    lists = pairs_to_lists(Dataset.from_dict({"q": ["x"], "d": ["y"], "e": ["z"], "label": [1.0]}))  # by name
    assert lists[0] == {"q": "x", "documents": ["y"], "labels": [1.0]}


def test_train_cli_groups_pairs_for_a_listwise_loss(tiny_bert: Path, tmp_path: Path) -> None:
    from test_cli import write_config

    from crossrank.cli import main

    cfg = write_config(tmp_path, tiny_bert, "loss: LambdaLoss\n")
    grouped = "data: {train: {path: rows.jsonl, lists: true}}"
    cfg.write_text(cfg.read_text().replace("data: {train: rows.jsonl}", grouped))
    assert main(["train", str(cfg)]) == 0
    assert json.loads((tmp_path / "run" / "final-metrics.json").read_text())["after"]["toy_map"] > 0
    # without lists: the listwise loss refuses pair data with a clear error
    cfg.write_text(cfg.read_text().replace("{path: rows.jsonl, lists: true}", "rows.jsonl"))
    assert main(["train", str(cfg)]) == 2
