"""Trainer features: learning_rate_mapping, per-component loss logs, callbacks, bf16 on CPU, samplers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
import torch
from transformers import TrainerCallback

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss
from crossrank.training.optim import parameter_groups

ROWS = [
    {"query": "what is the capital of france", "doc": "paris is the capital of france", "label": 1},
    {"query": "what is the capital of france", "doc": "the dog is an animal", "label": 0},
    {"query": "who wrote the book", "doc": "the author wrote the book", "label": 1},
    {"query": "who wrote the book", "doc": "the river is big", "label": 0},
] * 2


def args(tmp_path: Path, **kw: Any) -> TrainingArguments:
    base: dict[str, Any] = dict(output_dir=str(tmp_path / "run"), per_device_train_batch_size=4, use_cpu=True,
                                seed=0, logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True,
                                max_steps=2)
    base.update(kw)
    return TrainingArguments(**base)


def test_learning_rate_mapping_makes_parameter_groups(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    trainer = Trainer(model, args(tmp_path, learning_rate=1e-4, weight_decay=0.01,
                                  learning_rate_mapping={r"^classifier\.": 1e-2, r"encoder\.layer\.1\.": 5e-4}),
                      train_dataset=datasets.Dataset.from_list(ROWS))
    optimizer = trainer.create_optimizer()
    rate_of = {id(p): g["initial_lr"] if "initial_lr" in g else g["lr"]
               for g in optimizer.param_groups for p in g["params"]}
    names = dict(model.model.named_parameters())
    assert rate_of[id(names["classifier.weight"])] == 1e-2
    assert rate_of[id(names["bert.encoder.layer.1.output.dense.weight"])] == 5e-4
    assert rate_of[id(names["bert.encoder.layer.0.output.dense.weight"])] == 1e-4
    decay_of = {id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    assert decay_of[id(names["classifier.weight"])] == 0.01 and decay_of[id(names["classifier.bias"])] == 0.0
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(names)
    trainer.train()
    assert trainer.lr_scheduler.base_lrs and max(trainer.lr_scheduler.base_lrs) == 1e-2


def test_learning_rate_mapping_bad_regex(tiny_bert: Path) -> None:
    model = CrossEncoder(tiny_bert)
    with pytest.raises(ValueError, match=r"learning_rate_mapping key '\(' is not a valid regular expression"):
        parameter_groups(model.model, [], 0.0, {"(": 1e-3}, 1e-5)


class TwoPartLoss(BinaryCrossEntropyLoss):
    """BCE split into two logged components (positives and negatives)."""

    def compute(self, scores: torch.Tensor, labels: torch.Tensor | None, mask: torch.Tensor) -> Any:
        assert labels is not None
        bce = torch.nn.functional.binary_cross_entropy_with_logits(scores, labels, reduction="none")
        return {"pos": (bce * labels).mean(), "neg": (bce * (1 - labels)).mean()}


class Recorder(TrainerCallback):
    """Collect every ``on_log`` payload and count steps."""

    def __init__(self) -> None:
        self.logs: list[dict[str, float]] = []
        self.steps = 0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.steps += 1
        return control

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None,
               **kwargs: Any) -> Any:
        self.logs.append(dict(logs or {}))
        return control


def test_component_losses_are_logged_and_callbacks_run(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    recorder = Recorder()
    trainer = Trainer(model, args(tmp_path, max_steps=3), train_dataset=datasets.Dataset.from_list(ROWS),
                      loss=TwoPartLoss(model), callbacks=[recorder])
    trainer.train()
    assert recorder.steps == 3
    steps = [log for log in recorder.logs if "loss" in log]
    assert len(steps) == 3
    for log in steps:
        assert {"loss_pos", "loss_neg"} <= set(log)
        assert log["loss_pos"] + log["loss_neg"] == pytest.approx(log["loss"], abs=1e-3)


def test_bf16_autocast_on_cpu_trains(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    trainer = Trainer(model, args(tmp_path, bf16=True, max_steps=2, mini_batch_size=3),
                      train_dataset=datasets.Dataset.from_list(ROWS))
    before = model.model.classifier.weight.detach().clone()
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(0.0 < x < 2.0 for x in losses)
    assert not torch.equal(before, model.model.classifier.weight)
    assert model.model.classifier.weight.dtype == torch.float32


def test_no_duplicates_sampler_in_training(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    rows = [{"query": r["query"], "pos": r["doc"]} for r in ROWS[:4] if r["label"] == 1] * 3
    rows += [{"query": "where is the moon", "pos": "the moon is in the sky"}]
    trainer = Trainer(model, args(tmp_path, batch_sampler="no_duplicates", per_device_train_batch_size=2,
                                  num_train_epochs=1, max_steps=-1),
                      train_dataset=datasets.Dataset.from_list(rows), loss=MultipleNegativesRankingLoss(model))
    seen: list[list[str]] = []
    collate = trainer.data_collator

    def wrapper(batch_rows: list[dict[str, Any]]) -> dict[str, Any]:
        seen.append([r["query"] for r in batch_rows])
        return collate(batch_rows)

    trainer.data_collator = wrapper
    trainer.train()
    assert seen and all(len(set(batch)) == len(batch) for batch in seen)
    assert sum(len(b) for b in seen) == len(rows)


def test_group_by_label_in_training(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    trainer = Trainer(model, args(tmp_path, batch_sampler="group_by_label", per_device_train_batch_size=2,
                                  num_train_epochs=1, max_steps=-1),
                      train_dataset=datasets.Dataset.from_list(ROWS))
    labels: list[list[float]] = []
    collate = trainer.data_collator

    def wrapper(batch_rows: list[dict[str, Any]]) -> dict[str, Any]:
        labels.append([r["label"] for r in batch_rows])
        return collate(batch_rows)

    trainer.data_collator = wrapper
    trainer.train()
    assert len(labels) == 4 and all(len(set(b)) == 1 for b in labels)


def test_tensorboard_callback_writes_events(tiny_bert: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    model = CrossEncoder(tiny_bert)
    Trainer(model, args(tmp_path, report_to="tensorboard"), train_dataset=datasets.Dataset.from_list(ROWS)).train()
    assert list((tmp_path / "run").rglob("events.out.tfevents.*"))  # under output_dir/runs/...


def test_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="length_buckets must be a positive integer; found 0."):
        args(tmp_path, length_buckets=0)
    with pytest.raises(ValueError, match="mini_batch_size must be a positive integer; found 0."):
        args(tmp_path, mini_batch_size=0)
