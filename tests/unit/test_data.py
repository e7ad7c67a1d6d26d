"""Data loading, column roles, validation messages, the grid and the collator."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import torch

from crossrank.data import load_dataset_file, resolve_columns, save_dataset_file, validate_for_loss
from crossrank.data.grid import build_grid
from crossrank.losses import BinaryCrossEntropyLoss

ROWS = [
    {"query": "what is paris", "doc": "paris is the capital", "label": 1},
    {"query": "what is paris", "doc": "a dog", "label": 0},
    {"query": "who was king", "doc": "the king died", "label": 1},
]


class _Model:
    num_labels = 1


def bce() -> BinaryCrossEntropyLoss:
    return BinaryCrossEntropyLoss(_Model())  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv", ".parquet", ""])
def test_save_and_load_every_format(tmp_path: Path, suffix: str) -> None:
    data = datasets.Dataset.from_list(ROWS)
    path = save_dataset_file(data, tmp_path / f"rows{suffix}")
    loaded = load_dataset_file(path)
    assert loaded.column_names == ["query", "doc", "label"]
    assert loaded.to_list() == ROWS


def test_load_arrow_file(tmp_path: Path) -> None:
    data = datasets.Dataset.from_list(ROWS)
    data.save_to_disk(str(tmp_path / "saved"))
    arrow = next((tmp_path / "saved").glob("*.arrow"))
    assert load_dataset_file(arrow).to_list() == ROWS


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="data file 'missing.jsonl' does not exist"):
        load_dataset_file("missing.jsonl")
    bad = tmp_path / "x.txt"
    bad.write_text("hello")
    with pytest.raises(ValueError, match=r"cannot read .*x.txt: expected one of .jsonl"):
        load_dataset_file(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1}\n{not json\n')
    with pytest.raises(ValueError, match="cannot parse .*broken.jsonl as JSONL"):
        load_dataset_file(broken)


def test_resolve_columns_label_rules() -> None:
    roles = resolve_columns(["q", "score", "d"])
    assert roles.inputs == ["q", "d"] and roles.label == "score"
    assert resolve_columns(["q", "d"]).label is None
    with pytest.raises(ValueError, match=r"found several label columns \['label', 'score'\]"):
        resolve_columns(["q", "label", "d", "score"])


def test_validation_wrong_number_of_inputs() -> None:
    data = datasets.Dataset.from_list([{**r, "extra": "x y"} for r in ROWS])
    with pytest.raises(ValueError) as err:
        validate_for_loss(data, bce(), dataset_name="train")
    msg = str(err.value)
    assert msg.startswith("dataset 'train': BinaryCrossEntropyLoss expects (query, document) + a label column; "
                          "found input columns ['query', 'doc', 'extra'] and label column 'label' (tuple data")
    assert "Fix: dataset = dataset.select_columns(['query', 'doc', 'label'])." in msg
    assert "\n" not in msg


def test_validation_missing_label() -> None:
    data = datasets.Dataset.from_list([{"query": r["query"], "doc": r["doc"]} for r in ROWS])
    with pytest.raises(ValueError, match=r"BinaryCrossEntropyLoss needs a label column named one of \['label', "
                       r"'labels', 'score', 'scores'\]; found columns \['query', 'doc'\]. Fix: dataset = "
                       r"dataset.rename_column\('<your label column>', 'label'\)."):
        validate_for_loss(data, bce())


@pytest.mark.parametrize("label, shown", [("yes", "'yes'"), (float("nan"), "nan")])
def test_validation_bad_labels(label: object, shown: str) -> None:
    rows = [dict(r) for r in ROWS]
    rows[2]["label"] = label
    data = datasets.Dataset.from_list(rows[2:]) if isinstance(label, str) else datasets.Dataset.from_list(rows)
    row = 0 if isinstance(label, str) else 2
    with pytest.raises(ValueError, match=rf"label column 'label' row {row} holds {shown}; labels must be finite"):
        validate_for_loss(data, bce())


def test_validation_empty_string_and_empty_dataset() -> None:
    rows = [dict(r) for r in ROWS]
    rows[1]["doc"] = "  "
    with pytest.raises(ValueError, match=r"column 'doc' row 1 is an empty string; every input needs text. Fix: "):
        validate_for_loss(datasets.Dataset.from_list(rows), bce())
    empty = datasets.Dataset.from_dict({"query": [], "doc": [], "label": []})
    with pytest.raises(ValueError, match="the training dataset is empty; give at least one row."):
        validate_for_loss(empty, bce())


def test_validation_checks_model_labels() -> None:
    with pytest.raises(ValueError, match="BinaryCrossEntropyLoss needs a model with 1 output label"):
        validate_for_loss(datasets.Dataset.from_list(ROWS), bce(), model_num_labels=3)


def test_order_conflict_is_an_error() -> None:
    rows = [{"doc": r["doc"], "query": r["query"], "label": r["label"]} for r in ROWS]
    with pytest.raises(ValueError, match=r"column 'query' looks like the query but is input 2; .* Fix: dataset = "
                       r"dataset.select_columns\(\['query', 'doc', 'label'\]\)."):
        validate_for_loss(datasets.Dataset.from_list(rows), bce())


def test_grid_formats() -> None:
    pair = build_grid(ROWS, ["query", "doc"], "label", "pair")
    assert pair.mask.shape == (3, 1) and pair.labels.tolist() == [[1.0], [0.0], [1.0]]
    rows = [{"q": "a", "docs": ["x", "y", "z"], "labels": [1, 0, 0]}, {"q": "b", "docs": ["w"], "labels": [1]}]
    grid = build_grid(rows, ["q", "docs"], "labels", "list")
    assert grid.mask.tolist() == [[True, True, True], [True, False, False]]
    assert grid.pairs() == [("a", "x"), ("a", "y"), ("a", "z"), ("b", "w")]
    rows[1]["labels"] = [1, 0]
    with pytest.raises(ValueError, match="row 1 has 1 documents but 2 labels"):
        build_grid(rows, ["q", "docs"], "labels", "list")


def test_collator_tokenizes_valid_cells_once(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder
    from crossrank.data.collator import RerankCollator

    model = CrossEncoder(tiny_bert)
    rows = [{"q": "a", "docs": ["x", "y"], "labels": [1, 0]}, {"q": "b", "docs": ["w"], "labels": [1]}]
    from crossrank.losses.base import RerankLoss

    class ListLoss(RerankLoss):
        input_format = "list"

    batch = RerankCollator(model, ListLoss(model))(rows)
    assert batch["features"]["input_ids"].shape[0] == 3
    assert torch.equal(batch["labels"], torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    assert batch["mask"].tolist() == [[True, True], [True, False]]


def test_grouping_labeled_pairs() -> None:
    from crossrank.data.grouping import group_labeled_pairs

    samples = group_labeled_pairs(datasets.Dataset.from_list(ROWS))
    assert samples == [
        {"query": "what is paris", "positive": ["paris is the capital"], "negative": ["a dog"]},
        {"query": "who was king", "positive": ["the king died"], "negative": []},
    ]
    assert json.dumps(samples)
