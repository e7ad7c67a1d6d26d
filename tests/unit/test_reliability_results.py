"""Silent wrong results (issue 13, cases 5-9): each is now right, or an error naming the value."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import datasets
import pytest
import torch
from reliability_helpers import QUESTIONS, SENTENCES, last_error, pair_rows, wide_rows, write_config

from crossrank.cli import main


# ---------------------------------------------------------------- 5. one column rule for every reader
def test_resolve_roles_by_name_then_position() -> None:
    from crossrank.data.columns import resolve_roles

    wide = list(wide_rows()[0])
    assert resolve_roles(wide) == {"query": "question", "document": "sentence", "label": "label"}
    assert resolve_roles(["a", "b", "score"]) == {"query": "a", "document": "b", "label": "score"}
    assert resolve_roles(["q", "answer_text", "label"]) == {"query": "q", "document": "answer_text", "label": "label"}
    assert resolve_roles(["id", "x", "y"], ("query", "document")) == {"query": "x", "document": "y"}
    with pytest.raises(ValueError, match=r"^cannot tell which column is the query and the document: \['a', 'b', "
                       r"'c'\] could each be it \(columns \['a', 'b', 'c', 'label'\]\). Fix: rename"):
        resolve_roles(["a", "b", "c", "label"])
    with pytest.raises(ValueError, match=r"cannot tell which column is the document: \['sentence', 'passage'\]"):
        resolve_roles(["question", "sentence", "passage", "label"], fix="pick one.")


def test_train_evaluator_reads_wide_files_by_name(tmp_path: Path, tiny_bert: Path) -> None:
    from crossrank.cli.config import load_config
    from crossrank.pipeline.evaluator import build_evaluator

    config = load_config(write_config(tmp_path, tiny_bert), [])
    evaluator = build_evaluator(config, config.evaluator)
    first = evaluator.samples[0]
    assert first == {"query": QUESTIONS[0], "positive": [SENTENCES[0]], "negative": SENTENCES[1:]}


def test_train_evaluate_and_mine_agree_on_columns(tmp_path: Path, tiny_bert: Path) -> None:
    """The evaluator of `crossrank train`, `crossrank evaluate` and `crossrank mine` read the same roles."""
    from reliability_helpers import write_jsonl

    from crossrank.data.grouping import group_labeled_pairs
    from crossrank.pipeline.evaluate import EvaluateOptions, reranking_samples
    from crossrank.pipeline.mine import read_pairs

    data = datasets.Dataset.from_list(wide_rows())
    options = EvaluateOptions(evaluator="reranking", data="wide.jsonl")
    assert group_labeled_pairs(data) == reranking_samples(data, options)
    picked = read_pairs(write_jsonl(tmp_path / "wide.jsonl", wide_rows()), None, None, "label")
    assert picked.column_names == ["question", "sentence"] and picked[0]["sentence"] == SENTENCES[0]


def test_mining_defaults_pick_columns_by_name(tiny_bert: Path) -> None:
    from crossrank.mining.config import MiningConfig
    from crossrank.mining.hard_negatives import resolve_columns

    assert resolve_columns(list(wide_rows()[0]), MiningConfig()) == ("question", "sentence")


def test_unmeasurable_evaluator_samples_are_errors() -> None:
    from crossrank.evaluation import RerankingEvaluator

    with pytest.raises(ValueError, match=r"^evaluator 'dev': none of its 1 queries has a relevant document, so no "
                       r"ranking metric can be computed. Fix: check the label column"):
        RerankingEvaluator([{"query": "q", "positive": [], "negative": ["a", "b"]}], name="dev")
    same = [{"query": q, "positive": [q], "negative": [q, q]} for q in QUESTIONS]
    with pytest.raises(ValueError, match=r"every query's candidates are one identical text \(the query text itself\)"):
        RerankingEvaluator(same, name="dev")


def test_constant_gold_labels_are_errors() -> None:
    from crossrank.evaluation import ClassificationEvaluator, CorrelationEvaluator

    pairs = [("a", "b"), ("c", "d"), ("e", "f")]
    with pytest.raises(ValueError, match=r"^CorrelationEvaluator: every gold score is 0.5; a correlation with a "
                       r"constant is undefined."):
        CorrelationEvaluator(pairs, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"^ClassificationEvaluator: every gold label is 1; precision, recall and "
                       r"average precision need both classes."):
        ClassificationEvaluator(pairs, [1, 1, 1])


# ---------------------------------------------------------------- 6. Sentence Transformers v6 activation
@pytest.mark.oracle
@pytest.mark.parametrize("activation", [torch.nn.Tanh(), torch.nn.Identity()])
def test_sentence_transformers_v6_activation_is_read(tiny_bert: Path, tmp_path: Path,
                                                     activation: torch.nn.Module) -> None:
    st = pytest.importorskip("sentence_transformers")
    from crossrank import CrossEncoder

    reference = st.CrossEncoder(str(tiny_bert), activation_fn=activation, device="cpu")
    folder = tmp_path / "st-v6"
    reference.save(str(folder))
    stored = json.loads((folder / "config_sentence_transformers.json").read_text())["activation_fn"]
    assert stored == f"torch.nn.modules.{'activation' if 'Tanh' in stored else 'linear'}.{type(activation).__name__}"
    pairs = [("what is the capital", "paris is the capital of france"), ("a cat", "the river is big"),
             ("who wrote the book", "the author wrote the book")]
    ours = CrossEncoder(folder, device="cpu")
    assert type(ours.activation_fn) is type(activation)
    assert ours.predict(pairs).tolist() == pytest.approx(reference.predict(pairs).tolist(), abs=1e-6)


# ---------------------------------------------------------------- 7. folders that would score garbage
def test_folder_without_tokenizer_files_is_refused(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder

    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
        (tiny_bert / name).unlink(missing_ok=True)
    with pytest.raises(ValueError, match=rf"^model folder '{tiny_bert}' has no tokenizer files \(one of "
                       r"tokenizer.json, vocab.txt, vocab.json, ...\); it would load a placeholder tokenizer and "
                       r"score nonsense."):
        CrossEncoder(tiny_bert)


def test_placeholder_tokenizer_is_refused(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder

    tok = json.loads((tiny_bert / "tokenizer.json").read_text())
    tok["model"]["vocab"] = {k: v for k, v in tok["model"]["vocab"].items() if v < 5}
    (tiny_bert / "tokenizer.json").write_text(json.dumps(tok))
    (tiny_bert / "vocab.txt").unlink()
    with pytest.raises(ValueError, match=r"the tokenizer of .* has only 5 tokens"):
        CrossEncoder(tiny_bert)


def test_causal_lm_checkpoint_is_refused(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder

    config = json.loads((tiny_bert / "config.json").read_text())
    config.update(architectures=["Qwen3ForCausalLM"], model_type="qwen3")
    (tiny_bert / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"is a causal language model \(Qwen3ForCausalLM\); loading it as a "
                       r"cross-encoder would add a random classification head. crossrank does not support decoder "
                       r"rerankers yet."):
        CrossEncoder(tiny_bert)


# ---------------------------------------------------------------- 8. values that trained wrongly
@pytest.mark.parametrize("kwargs, message", [
    ({"num_train_epochs": -1}, "num_train_epochs=-1 trains 0 steps (max_steps is -1, so the epochs decide)"),
    ({"num_train_epochs": 0}, "num_train_epochs=0 trains 0 steps"),
    ({"max_steps": 0}, "max_steps must be a positive number of optimizer steps, or -1 to train num_train_epochs; "
                       "found max_steps=0."),
])
def test_training_lengths_of_zero_steps_are_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    from crossrank import TrainingArguments

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrainingArguments(output_dir=str(tmp_path), **kwargs)


def test_cli_num_train_epochs_minus_one(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    assert main(["train", str(cfg), "--training.max_steps", "-1", "--training.num_train_epochs", "-1"]) == 2
    assert "num_train_epochs=-1 trains 0 steps" in last_error(capsys.readouterr().err)
    assert not (tmp_path / "run" / "final").exists()


def test_bce_labels_outside_unit_interval(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder
    from crossrank.data.columns import validate_for_loss
    from crossrank.losses import BinaryCrossEntropyLoss, MSELoss

    model = CrossEncoder(tiny_bert)
    rows = pair_rows()
    rows[3]["label"] = 5
    data = datasets.Dataset.from_list(rows)
    with pytest.raises(ValueError, match=r"^BinaryCrossEntropyLoss needs labels in \[0, 1\]; label column 'label' "
                       r"row 3 holds 5. Fix: rescale the labels"):
        validate_for_loss(data, BinaryCrossEntropyLoss(model))
    validate_for_loss(data, MSELoss(model))  # graded scores are fine for a regression loss


def test_limit_zero_is_an_error(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = write_config(tmp_path, tiny_bert)
    assert main(["train", str(cfg), "--data.train.limit", "0"]) == 2
    assert last_error(capsys.readouterr().err) == (
        "crossrank train: error: limit for pairs.jsonl must be a positive whole number of rows; found 0. "
        "Fix: remove 'limit' to use every row, or give a count such as 1000.")


def test_rank_one_string_and_negative_top_k(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder

    model = CrossEncoder(tiny_bert)
    with pytest.raises(TypeError, match=r"rank expects a list of documents; found one string 'paris is big', which "
                       r"would be ranked character by character. Fix: rank\(query, \[document\]\)."):
        model.rank("paris", "paris is big")
    for bad in (-1, 0):
        with pytest.raises(ValueError, match=rf"top_k must be a positive integer or None \(all documents\); "
                           rf"found {bad}."):
            model.rank("paris", ["a", "b", "c"], top_k=bad)
    assert len(model.rank("paris", ["a", "b", "c"], top_k=2)) == 2


# ---------------------------------------------------------------- 9. resume from the last complete checkpoint
def _train_run(tmp_path: Path, tiny_bert: Path, steps: int, flags: list[str]) -> int:
    cfg = write_config(tmp_path, tiny_bert, training=f"save_steps: 2, save_strategy: steps, max_steps: {steps}",
                       evaluator=False)
    return main(["train", str(cfg), *flags])


def test_yaml_resume_key_resumes_from_last_complete_checkpoint(tiny_bert: Path, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    assert _train_run(tmp_path, tiny_bert, 4, []) == 0
    run = tmp_path / "run"
    shutil.copytree(run / "checkpoint-4", run / "checkpoint-6")
    (run / "checkpoint-6" / "trainer_state.json").unlink()  # interrupted before its last file
    weights = run / "checkpoint-8" / "model.safetensors"
    shutil.copytree(run / "checkpoint-4", weights.parent)
    weights.write_bytes(weights.read_bytes()[:5000])  # truncated weights
    with caplog.at_level(logging.INFO):
        assert _train_run(tmp_path, tiny_bert, 6, ["--training.resume_from_checkpoint", "true"]) == 0
    text = caplog.text
    assert f"Skipping {run / 'checkpoint-8'}: model.safetensors is truncated" in text
    assert f"Skipping {run / 'checkpoint-6'}: it has no trainer_state.json (the save was interrupted)" in text
    assert f"Resuming from {run / 'checkpoint-4'} (the last complete checkpoint)." in text
    state = json.loads((run / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6 and not (run / "checkpoint-8").exists()


def test_resume_flag_true_and_explicit_incomplete(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert _train_run(tmp_path, tiny_bert, 2, ["--resume-from-checkpoint", "true"]) == 0
    assert "no complete checkpoint in" in caplog.text and "training starts at step 0" in caplog.text
    broken = tmp_path / "run" / "checkpoint-2"
    (broken / "trainer_state.json").write_text('{"global_step": ')
    assert _train_run(tmp_path, tiny_bert, 4, ["--resume-from-checkpoint", str(broken)]) == 2
    assert last_error(capsys.readouterr().err) == (
        f"crossrank train: error: cannot resume from {broken}: its trainer_state.json is truncated. Fix: pass a "
        f"complete checkpoint folder, or 'true' for the last complete checkpoint in {tmp_path / 'run'}.")


def test_wikiqa_shaped_train_run_has_real_metrics(tiny_bert: Path, tmp_path: Path) -> None:
    """The case of the issue end to end: the train evaluator measures what the wide file means."""
    cfg = write_config(tmp_path, tiny_bert)
    assert main(["train", str(cfg)]) == 0
    metrics = json.loads((tmp_path / "run" / "final-metrics.json").read_text())
    from crossrank import CrossEncoder
    from crossrank.evaluation import RerankingEvaluator

    samples = [{"query": q, "positive": [SENTENCES[i]], "negative": [d for j, d in enumerate(SENTENCES) if j != i]}
               for i, q in enumerate(QUESTIONS)]  # what the file means, written out
    expected = RerankingEvaluator(samples, name="toy")(CrossEncoder(tmp_path / "run" / "final"))
    assert metrics["after"] == pytest.approx(expected)
