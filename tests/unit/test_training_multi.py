"""Multi-dataset training: a loss per dataset, one dataset per batch, order, validation, eval datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.losses import BinaryCrossEntropyLoss, LambdaLoss

PAIRS = [
    {"query": "what is the capital of france", "doc": "paris is the capital of france", "label": 1},
    {"query": "what is the capital of france", "doc": "the dog is an animal", "label": 0},
    {"query": "who wrote the book", "doc": "the author wrote the book", "label": 1},
    {"query": "who wrote the book", "doc": "the river is big", "label": 0},
] * 2
LISTS = [
    {"query": "what is the capital of france", "docs": ["paris is the capital", "the dog", "a river"],
     "labels": [1, 0, 0]},
    {"query": "who wrote the book", "docs": ["the author wrote it", "the cat is small"], "labels": [1, 0]},
] * 2


def args(tmp_path: Path, **kw: Any) -> TrainingArguments:
    base: dict[str, Any] = dict(output_dir=str(tmp_path / "run"), per_device_train_batch_size=2, use_cpu=True,
                                seed=0, logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True)
    base.update(kw)
    return TrainingArguments(**base)


def recorded(trainer: Trainer) -> list[str | None]:
    """Record the dataset name of every training batch the collator builds."""
    names: list[str | None] = []
    collate = trainer.data_collator

    def wrapper(rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch = collate(rows)
        names.append(batch["dataset_name"])
        return batch

    trainer.data_collator = wrapper
    return names


def two_losses(model: CrossEncoder) -> dict[str, Any]:
    return {"pairs": BinaryCrossEntropyLoss(model), "lists": LambdaLoss(model)}


def data() -> dict[str, datasets.Dataset]:
    return {"pairs": datasets.Dataset.from_list(PAIRS), "lists": datasets.Dataset.from_list(LISTS)}


def test_round_robin_alternates_datasets(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    trainer = Trainer(model, args(tmp_path, num_train_epochs=1, multi_dataset_batch_sampler="round_robin"),
                      train_dataset=data(), loss=two_losses(model))
    names = recorded(trainer)
    trainer.train()
    assert names == ["pairs", "lists", "pairs", "lists"]
    assert trainer.state.global_step == 4


def test_proportional_uses_all_batches_of_each(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    trainer = Trainer(model, args(tmp_path, num_train_epochs=1), train_dataset=datasets.DatasetDict(data()),
                      loss=two_losses(model))
    names = recorded(trainer)
    trainer.train()
    assert sorted(names) == ["lists"] * 2 + ["pairs"] * 4  # type: ignore[type-var]


def test_one_loss_for_several_datasets(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    two = {"a": datasets.Dataset.from_list(PAIRS[:4]), "b": datasets.Dataset.from_list(PAIRS[4:])}
    trainer = Trainer(model, args(tmp_path, max_steps=2), train_dataset=two)
    names = recorded(trainer)
    trainer.train()
    assert set(names) <= {"a", "b"} and len(names) >= 2  # the loader reads one batch ahead


def test_loss_keys_must_match_datasets(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    losses = {"pairs": BinaryCrossEntropyLoss(model), "other": LambdaLoss(model)}
    with pytest.raises(ValueError, match=r"^loss dict keys \['other', 'pairs'\] do not match the train datasets "
                                         r"\['lists', 'pairs'\]; give exactly one loss per train dataset name\.$"):
        Trainer(model, args(tmp_path), train_dataset=data(), loss=losses)


def test_loss_dict_needs_dataset_dict(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    with pytest.raises(ValueError, match=r"loss is a dict with keys \['lists', 'pairs'\] but train_dataset is a "
                                         "single dataset"):
        Trainer(model, args(tmp_path), train_dataset=datasets.Dataset.from_list(PAIRS), loss=two_losses(model))


def test_each_dataset_validated_against_its_loss(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    swapped = {"pairs": LambdaLoss(model), "lists": BinaryCrossEntropyLoss(model)}
    with pytest.raises(ValueError, match=r"^dataset 'pairs': LambdaLoss expects \(query, \[documents\]\)"):
        Trainer(model, args(tmp_path), train_dataset=data(), loss=swapped)


def test_eval_datasets_get_their_own_loss(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    trainer = Trainer(model, args(tmp_path, max_steps=1), train_dataset=data(), eval_dataset=data(),
                      loss=two_losses(model))
    metrics = trainer.evaluate()
    assert {"eval_pairs_loss", "eval_lists_loss"} <= set(metrics)
    with pytest.raises(ValueError, match=r"^eval dataset 'extra' has no loss: the loss dict has keys "
                                         r"\['lists', 'pairs'\]"):
        Trainer(model, args(tmp_path), train_dataset=data(), loss=two_losses(model),
                eval_dataset={**data(), "extra": datasets.Dataset.from_list(PAIRS)})
