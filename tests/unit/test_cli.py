"""The train and rank commands on the tiny BERT: overrides, one-line errors, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossrank.cli import main
from crossrank.cli.config import apply_overrides, parse_value

ROWS = [
    {"question": "what is the capital of france", "sentence": "paris is the capital of france", "label": 1},
    {"question": "what is the capital of france", "sentence": "the dog is an animal", "label": 0},
    {"question": "who wrote the book", "sentence": "the author wrote the book", "label": 1},
    {"question": "who wrote the book", "sentence": "the river is big", "label": 0},
]


def write_config(tmp_path: Path, model: Path, extra: str = "") -> Path:
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"model: {{name_or_path: {model}, max_length: 64}}\n"
        "data: {train: rows.jsonl}\n"
        "evaluator: {type: reranking, data: rows.jsonl, name: toy}\n"
        f"training: {{output_dir: {tmp_path / 'run'}, max_steps: 2, per_device_train_batch_size: 2, "
        "use_cpu: true, disable_tqdm: true}\n" + extra
    )
    return cfg


def test_overrides_parse_types() -> None:
    cfg: dict = {"model": "m", "training": {}}
    apply_overrides(cfg, ["--training.learning_rate", "3e-5", "--model.max_length=128", "--seed", "7"])
    assert cfg == {"model": {"name_or_path": "m", "max_length": 128}, "training": {"learning_rate": 3e-5}, "seed": 7}
    assert parse_value("true") is True and parse_value("[a, b]") == ["a", "b"]


def test_train_end_to_end_prints_table(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", str(write_config(tmp_path, tiny_bert))]) == 0
    out = capsys.readouterr().out
    assert f"Saved the trained reranker to {tmp_path / 'run' / 'final'}" in out
    assert "toy_ndcg@10" in out and "before" in out
    metrics = json.loads((tmp_path / "run" / "final-metrics.json").read_text())
    assert set(metrics["before"]) == {"toy_map", "toy_mrr@10", "toy_ndcg@10"} == set(metrics["after"])
    assert (tmp_path / "run" / "final" / "config.json").is_file()


@pytest.mark.parametrize(
    "extra, flags, message",
    [
        ("batch: 3\n", [], "unknown key 'batch' in the config; expected one of model, data, loss, evaluator, "
                           "training, output, seed, mine, fusion, warm_start."),
        ("", ["--training.learnin_rate", "1"], "unknown key 'learnin_rate' in section 'training' "
                                                "(TrainingArguments). Did you mean 'learning_rate'?"),
        ("", ["--loss", "BCELoss"], "unknown loss 'BCELoss'; expected one of"),
        ("", ["--evaluator.at", "5"], "unknown key 'at' in section 'evaluator'; expected one of type, data, name"),
        ("", ["--model.name_or_path", "./no/such/model"], "model folder './no/such/model' does not exist"),
        ("", ["--data.train", "missing.jsonl"], "data file 'missing.jsonl' does not exist"),
    ],
)
def test_train_errors_are_one_line(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                   extra: str, flags: list[str], message: str) -> None:
    assert main(["train", str(write_config(tmp_path, tiny_bert, extra)), *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("crossrank train: error: ") and message in err


def test_rank_command(tiny_bert: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["rank", str(tiny_bert), "--query", "paris", "--documents", "the capital", "a dog", "--json", "--top-k", "1"]
    assert main(argv) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert len(ranked) == 1 and ranked[0]["text"] in {"the capital", "a dog"}
    assert main(["rank", str(tiny_bert), "--query", "paris"]) == 2
    assert "no documents to rank" in capsys.readouterr().err
