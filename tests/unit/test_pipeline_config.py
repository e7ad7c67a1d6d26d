"""The typed train configuration: coercion, one-line refusals before any model loads, overrides, resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import write_config

from crossrank.cli import CLIError, main
from crossrank.cli.config import apply_overrides, load_config
from crossrank.options import OptionError, coerce
from crossrank.pipeline.config import train_config
from crossrank.pipeline.train import resume_target

BASE = {"model": "m", "data": {"train": "rows.jsonl"}}


def test_string_numbers_from_yaml_are_coerced() -> None:
    config = train_config({**BASE, "training": {"learning_rate": "5e-5", "num_train_epochs": "2",
                                                "use_cpu": "true"}})
    assert config.training == {"learning_rate": 5e-05, "num_train_epochs": 2.0, "use_cpu": True}
    assert config.data.train.path == "rows.jsonl" and config.model.name_or_path == "m"


def test_a_non_numeric_string_is_refused_before_the_model_loads(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tmp_path / "no-such-model")
    assert main(["train", str(cfg), "--training.learning_rate", "fast"]) == 2
    assert capsys.readouterr().err.strip() == (
        "crossrank train: error: training.learning_rate: expected float, found 'fast' (str)."
    )


def test_loss_option_override_on_a_bare_loss_name() -> None:
    raw = apply_overrides({**BASE, "loss": "BinaryCrossEntropyLoss"}, ["--loss.pos_weight", "5"])
    assert raw["loss"] == {"name": "BinaryCrossEntropyLoss", "pos_weight": 5}
    spec = train_config(raw).loss
    assert spec.name == "BinaryCrossEntropyLoss" and spec.options == {"pos_weight": 5.0}
    with pytest.raises(OptionError, match=r"^loss BinaryCrossEntropyLoss has no option 'pos_wieght'; it takes "
                                          r".*Did you mean 'pos_weight'\?$"):
        train_config({**BASE, "loss": {"name": "BinaryCrossEntropyLoss", "pos_wieght": 5}})


def test_learning_rate_mapping_as_a_json_string() -> None:
    config = train_config({**BASE, "training": {"learning_rate_mapping": '{"classifier": 1e-3}'}})
    assert config.training["learning_rate_mapping"] == {"classifier": 0.001}
    with pytest.raises(OptionError, match=r"^training.learning_rate_mapping.classifier: expected float"):
        train_config({**BASE, "training": {"learning_rate_mapping": {"classifier": "high"}}})


def test_resume_from_checkpoint_in_the_training_section_reaches_the_trainer() -> None:
    config = train_config(apply_overrides(dict(BASE), ["--training.resume_from_checkpoint", "true"]))
    assert resume_target(None, config) is True
    assert resume_target("runs/x/checkpoint-4", config) == "runs/x/checkpoint-4"
    folder = train_config({**BASE, "training": {"resume_from_checkpoint": "runs/x/checkpoint-2"}})
    assert resume_target(None, folder) == "runs/x/checkpoint-2"
    assert resume_target(None, train_config(dict(BASE))) is None


def test_yaml_syntax_errors_keep_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model: m\ndata:\n  train: [a, b\nseed: 1\n")
    with pytest.raises(CLIError) as info:
        load_config(path, [])
    message = str(info.value)
    assert message.startswith(f"cannot parse {path} as YAML: line 4, column 5: ") and "\n" not in message


def test_section_types_and_choices_are_checked() -> None:
    with pytest.raises(OptionError, match=r"^data.train.limit: expected int or None, found 'many' \(str\)\.$"):
        train_config({**BASE, "data": {"train": {"path": "x.jsonl", "limit": "many"}}})
    with pytest.raises(OptionError, match=r"^Unknown type 'pairwise'; expected one of reranking\.$"):
        train_config({**BASE, "evaluator": {"type": "pairwise", "data": "dev.jsonl"}})
    with pytest.raises(OptionError, match=r"^mine.num_negatives: expected int, found 'five'"):
        train_config({**BASE, "mine": {"model": "m", "num_negatives": "five"}})
    assert coerce("none", str | list[str] | None, "report_to") == "none"
    assert coerce(["a"], str | list[str] | None, "report_to") == ["a"]


def test_mine_flags_come_from_mining_config() -> None:
    import dataclasses

    from crossrank.cli import build_parser
    from crossrank.mining.config import MiningConfig

    parser = build_parser()
    mine = parser._subparsers._group_actions[0].choices["mine"]  # type: ignore[union-attr]
    flags = {option for action in mine._actions for option in action.option_strings}
    expected = {"--" + f.name.replace("_", "-") for f in dataclasses.fields(MiningConfig) if f.name != "verbose"}
    assert expected <= flags and {"--anchor-column", "--positive-column", "--model", "--corpus"} <= flags
    args = parser.parse_args(["mine", "p.jsonl", "--out", "o.jsonl", "--model", "m", "--num-negatives", "5"])
    assert args.num_negatives == "5" and not hasattr(args, "range_min")
