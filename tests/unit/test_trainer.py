"""Trainer: BCE training on the tiny BERT, evaluators at eval steps, best model, resume, errors."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.training.trainer import scores_to_grid

ROWS = [
    {"query": "what is the capital of france", "doc": "paris is the capital of france", "label": 1},
    {"query": "what is the capital of france", "doc": "the dog is an animal", "label": 0},
    {"query": "who wrote the book", "doc": "the author wrote the book", "label": 1},
    {"query": "who wrote the book", "doc": "the river is big", "label": 0},
] * 4


class CountingEvaluator:
    """A stand-in evaluator: mean score of the positive pairs, counting its calls."""

    name = "toy"
    primary_metric = "toy_pos"
    greater_is_better = True

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, model: CrossEncoder, output_path: str | None = None, epoch: float = -1,
                 steps: int = -1) -> dict[str, float]:
        self.calls += 1
        pos = [(r["query"], r["doc"]) for r in ROWS[:4] if r["label"] == 1]
        return {"toy_pos": float(np.mean(model.predict(pos)))}


def args(tmp_path: Path, **kw: object) -> TrainingArguments:
    base = dict(output_dir=str(tmp_path / "run"), per_device_train_batch_size=4, learning_rate=1e-3,
                use_cpu=True, seed=0, logging_steps=1, save_strategy="no", report_to="none")
    base.update(kw)
    return TrainingArguments(**base)  # type: ignore[arg-type]


def test_scores_to_grid_places_valid_cells() -> None:
    logits = torch.tensor([[1.0], [2.0], [3.0]])
    mask = torch.tensor([[True, True], [True, False]])
    assert scores_to_grid(logits, mask).tolist() == [[1.0, 2.0], [3.0, 0.0]]


def test_bce_training_raises_positive_scores(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    pos = [(r["query"], r["doc"]) for r in ROWS[:4] if r["label"] == 1]
    before = model.predict(pos).mean()
    trainer = Trainer(model, args(tmp_path, max_steps=80, learning_rate=3e-3, disable_tqdm=True),
                      train_dataset=datasets.Dataset.from_list(ROWS))
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert np.mean(losses[-10:]) < 0.5 < np.mean(losses[:10])
    assert model.predict(pos).mean() > before + 0.2


def test_evaluator_drives_best_model(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    evaluator = CountingEvaluator()
    data = datasets.Dataset.from_list(ROWS)
    trainer = Trainer(model, args(tmp_path, max_steps=6, eval_strategy="steps", eval_steps=2, save_strategy="steps",
                                  save_steps=2, load_best_model_at_end=True, metric_for_best_model="eval_toy_pos"),
                      train_dataset=data, eval_dataset=data, evaluator=evaluator)
    trainer.train()
    assert evaluator.calls == 3
    evals = [h for h in trainer.state.log_history if "eval_toy_pos" in h]
    assert len(evals) == 3 and all("eval_loss" in h for h in evals)
    best = max(h["eval_toy_pos"] for h in evals)
    assert trainer.state.best_metric == pytest.approx(best)
    assert evaluator(model)["toy_pos"] == pytest.approx(best, abs=1e-5)


def test_evaluator_without_eval_dataset(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    evaluator = CountingEvaluator()
    trainer = Trainer(model, args(tmp_path, max_steps=2, eval_strategy="steps", eval_steps=1),
                      train_dataset=datasets.Dataset.from_list(ROWS), evaluator=evaluator)
    trainer.train()
    assert evaluator.calls == 2
    assert sum("eval_toy_pos" in h for h in trainer.state.log_history) == 2


class StopAt(TrainerCallback):
    """Interrupt training after ``step`` optimizer steps, as a crash would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args: object, state: object, control: object, **kwargs: object) -> object:
        if state.global_step >= self.step:  # type: ignore[attr-defined]
            control.should_training_stop = True  # type: ignore[attr-defined]
        return control


def test_resume_reaches_same_weights(tiny_bert: Path, tmp_path: Path) -> None:
    data = datasets.Dataset.from_list(ROWS)
    full = CrossEncoder(tiny_bert)
    Trainer(full, args(tmp_path / "a", max_steps=4), train_dataset=data).train()
    first = CrossEncoder(tiny_bert)
    Trainer(first, args(tmp_path / "b", max_steps=4, save_strategy="steps", save_steps=2),
            train_dataset=data, callbacks=[StopAt(2)]).train()
    resumed = CrossEncoder(tiny_bert)
    Trainer(resumed, args(tmp_path / "b", max_steps=4), train_dataset=data).train(
        resume_from_checkpoint=str(tmp_path / "b" / "run" / "checkpoint-2"))
    for (name, a), b in zip(full.model.named_parameters(), resumed.model.parameters()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_trainer_validates_data_before_training(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    no_label = datasets.Dataset.from_list([{"query": r["query"], "doc": r["doc"]} for r in ROWS])
    with pytest.raises(ValueError, match="dataset 'train': BinaryCrossEntropyLoss needs a label column"):
        Trainer(model, args(tmp_path), train_dataset=no_label)
