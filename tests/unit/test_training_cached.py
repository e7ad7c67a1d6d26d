"""Memory-bounded scoring: chunked gradients equal the unchunked ones (dropout replayed), chunk counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
import torch

from crossrank import CrossEncoder, Trainer, TrainingArguments
from crossrank.losses import BinaryCrossEntropyLoss, CachedMultipleNegativesRankingLoss, LambdaLoss
from crossrank.training.cached import ChunkedScores, RngState, chunk_size_for
from crossrank.training.trainer import scores_to_grid

LISTS = [
    {"query": "what is the capital of france", "docs": ["paris is the capital", "the dog", "a river", "the sun"],
     "labels": [1, 0, 0, 0]},
    {"query": "who wrote the book", "docs": ["the author wrote it", "the cat is small"], "labels": [1, 0]},
    {"query": "where is the river", "docs": ["the river is big", "the moon", "music"], "labels": [2, 1, 0]},
]
PAIRS = [
    {"query": "what is the capital of france", "doc": "paris is the capital of france", "label": 1},
    {"query": "what is the capital of france", "doc": "the dog is an animal", "label": 0},
    {"query": "who wrote the book", "doc": "the author wrote the book", "label": 1},
    {"query": "who wrote the book", "doc": "the river is big", "label": 0},
    {"query": "where is the moon", "doc": "the moon is in the sky", "label": 1},
]
TRIPLETS = [{"query": r["query"], "pos": r["doc"], "neg": "the apple is food"} for r in PAIRS]


def make_trainer(path: Path, tmp_path: Path, rows: list[dict[str, Any]], loss: Any = None,
                 mini_batch_size: int | None = None, length_buckets: int = 4) -> Trainer:
    model = CrossEncoder(path)
    args = TrainingArguments(output_dir=str(tmp_path / "run"), use_cpu=True, report_to="none",
                             mini_batch_size=mini_batch_size, per_device_train_batch_size=len(rows),
                             length_buckets=length_buckets)
    trainer = Trainer(model, args, train_dataset=datasets.Dataset.from_list(rows),
                      loss=loss(model) if loss is not None else None)
    trainer.current_gradient_accumulation_steps = 1
    return trainer


def step_grads(trainer: Trainer, rows: list[dict[str, Any]], seed: int) -> tuple[float, dict[str, torch.Tensor]]:
    trainer.model.zero_grad(set_to_none=True)
    inputs = trainer.data_collator(rows)
    torch.manual_seed(seed)
    loss = trainer.training_step(trainer.model, inputs)
    return float(loss), {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}


def chunkwise_reference(trainer: Trainer, rows: list[dict[str, Any]], chunk: int, seed: int) -> dict[str, torch.Tensor]:
    """Gradients of one graph over chunk-by-chunk forwards (same dropout draws as the cached pass)."""
    model = trainer.model
    model.train()
    model.zero_grad(set_to_none=True)
    inputs = trainer.data_collator(rows)
    features = inputs["features"]
    order = torch.argsort(features["attention_mask"].sum(1), stable=True)  # chunks go shortest first
    torch.manual_seed(seed)
    parts = []
    for rows in torch.split(order, chunk):
        width = int(features["attention_mask"][rows].sum(1).max())
        parts.append(model(**{k: v[rows, :width] for k, v in features.items()}).logits)
    logits = torch.cat(parts)[torch.argsort(order)]
    loss = trainer.loss(scores_to_grid(logits, inputs["mask"]), inputs["labels"], inputs["mask"])
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def assert_same_grads(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys() and len(a) > 10
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-5, rtol=1e-5, msg=name)


def no_dropout(trainer: Trainer) -> None:
    for module in trainer.model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


@pytest.mark.parametrize(("rows", "loss", "chunk"), [(PAIRS, None, 2), (LISTS, LambdaLoss, 3)])
def test_chunked_grads_equal_unchunked_without_dropout(tiny_bert: Path, tmp_path: Path, rows: Any, loss: Any,
                                                       chunk: int) -> None:
    plain = make_trainer(tiny_bert, tmp_path / "a", rows, loss)
    cached = make_trainer(tiny_bert, tmp_path / "b", rows, loss, mini_batch_size=chunk)
    no_dropout(plain)
    no_dropout(cached)
    loss_a, grads_a = step_grads(plain, rows, seed=1)
    loss_b, grads_b = step_grads(cached, rows, seed=1)
    assert loss_b == pytest.approx(loss_a, abs=1e-6)
    assert_same_grads(grads_a, grads_b)


@pytest.mark.parametrize(("rows", "loss", "chunk"), [(PAIRS, None, 2), (LISTS, LambdaLoss, 4)])
def test_chunked_grads_replay_dropout(tiny_bert: Path, tmp_path: Path, rows: Any, loss: Any, chunk: int) -> None:
    cached = make_trainer(tiny_bert, tmp_path / "a", rows, loss, mini_batch_size=chunk)
    _, grads = step_grads(cached, rows, seed=7)
    reference = chunkwise_reference(make_trainer(tiny_bert, tmp_path / "b", rows, loss), rows, chunk, seed=7)
    assert_same_grads(reference, grads)


def test_replay_restores_random_state_after_the_step(tiny_bert: Path, tmp_path: Path) -> None:
    cached = make_trainer(tiny_bert, tmp_path, PAIRS, mini_batch_size=2)
    inputs = cached.data_collator(PAIRS)
    torch.manual_seed(3)
    cached.training_step(cached.model, inputs)
    after_cached = torch.rand(3)
    torch.manual_seed(3)
    scorer = ChunkedScores(cached.model, inputs["features"], 2)
    scorer.score()
    assert torch.equal(torch.rand(3), after_cached)


def test_cached_mnrl_uses_its_own_chunk_size(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=3)
    assert chunk_size_for(loss, None) == 3
    assert chunk_size_for(loss, 8) == 3
    assert chunk_size_for(BinaryCrossEntropyLoss(model), 8) == 8
    assert chunk_size_for(BinaryCrossEntropyLoss(model), None) is None
    trainer = make_trainer(tiny_bert, tmp_path, TRIPLETS, CachedMultipleNegativesRankingLoss)
    calls: list[int] = []
    handle = trainer.model.register_forward_hook(lambda m, args, kw, out: calls.append(kw["input_ids"].shape[0]),
                                                 with_kwargs=True)
    step_grads(trainer, TRIPLETS, seed=0)
    handle.remove()
    pairs = len(TRIPLETS) * 6  # positive + 4 in-batch negatives + the hard negative
    sizes = [min(32, pairs - a) for a in range(0, pairs, 32)]
    assert calls == sizes + sizes


def test_chunk_forward_counts(tiny_bert: Path, tmp_path: Path) -> None:
    trainer = make_trainer(tiny_bert, tmp_path, PAIRS, mini_batch_size=2)
    calls: list[int] = []
    handle = trainer.model.register_forward_hook(lambda m, args, kw, out: calls.append(kw["input_ids"].shape[0]),
                                                 with_kwargs=True)
    step_grads(trainer, PAIRS, seed=0)
    handle.remove()
    assert calls == [2, 2, 1, 2, 2, 1]


def test_evaluation_scores_in_chunks_without_grad(tiny_bert: Path, tmp_path: Path) -> None:
    trainer = make_trainer(tiny_bert, tmp_path, PAIRS, mini_batch_size=2)
    trainer.model.eval()
    inputs = trainer.data_collator(PAIRS)
    with torch.no_grad():
        value = trainer.compute_loss(trainer.model, inputs)
        logits = trainer.model(**inputs["features"]).logits
    expected = trainer.loss(scores_to_grid(logits, inputs["mask"]), inputs["labels"], inputs["mask"])
    assert float(value) == pytest.approx(float(expected), abs=1e-6)
    assert not value.requires_grad  # nothing to replay: evaluation scores carry no graph


def test_replay_before_score_is_an_error(tiny_bert: Path) -> None:
    model = CrossEncoder(tiny_bert)
    scorer = ChunkedScores(model.model, {"input_ids": torch.ones((2, 3), dtype=torch.long)}, 1)
    with pytest.raises(RuntimeError, match=r"ChunkedScores.replay\(\) needs score\(\) first"):
        scorer.replay()


def test_rng_state_replays_cpu_draws() -> None:
    torch.manual_seed(0)
    state = RngState.capture(torch.device("cpu"))
    first = torch.rand(4)
    later = torch.rand(2)
    torch.manual_seed(0)
    torch.rand(4)
    with state.replayed():
        assert torch.equal(torch.rand(4), first)
    assert torch.equal(torch.rand(2), later)


def test_training_with_chunks_lowers_the_loss(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert)
    args = TrainingArguments(output_dir=str(tmp_path / "run"), use_cpu=True, report_to="none", max_steps=12,
                             mini_batch_size=2, per_device_train_batch_size=4, learning_rate=3e-3, logging_steps=1,
                             save_strategy="no", disable_tqdm=True, seed=0)
    trainer = Trainer(model, args, train_dataset=datasets.Dataset.from_list(PAIRS * 4))
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4


def test_length_buckets_give_the_same_gradients(tiny_bert: Path, tmp_path: Path) -> None:
    rows = [{"query": f"{r['query']} {'big ' * i}", "doc": r["doc"], "label": r["label"]}
            for i, r in enumerate(PAIRS * 4)]
    one = make_trainer(tiny_bert, tmp_path / "a", rows, length_buckets=1)
    four = make_trainer(tiny_bert, tmp_path / "b", rows, length_buckets=4)
    no_dropout(one)
    no_dropout(four)
    calls: list[tuple[int, int]] = []
    handle = four.model.register_forward_hook(lambda m, a, kw, out: calls.append(tuple(kw["input_ids"].shape)),
                                              with_kwargs=True)
    loss_a, grads_a = step_grads(one, rows, seed=1)
    loss_b, grads_b = step_grads(four, rows, seed=1)
    handle.remove()
    # 20 pairs; cuts where they save more padding than a piece costs (2 rows of the longest pair)
    assert [n for n, _ in calls] == [11, 9]  # (with the tiny tokenizer's real vocabulary; see conftest)
    assert [w for _, w in calls] == sorted(w for _, w in calls) and calls[0][1] < calls[-1][1]
    assert loss_b == pytest.approx(loss_a, abs=1e-6)
    assert_same_grads(grads_a, grads_b)


def test_padding_cuts_minimise_padding_plus_piece_cost() -> None:
    from crossrank.training.cached import padding_cuts

    # two length groups: one cut saves 8 * 40 padded tokens, far more than a piece costs
    assert padding_cuts([10] * 8 + [50] * 8, 4, 80) == [8, 8]
    # all the same length: no cut pays off
    assert padding_cuts([10] * 16, 4, 80) == [16]
    # capped by max_pieces, and each piece is contiguous in sorted order
    assert padding_cuts([10, 11, 12, 13, 40, 41, 100, 120], 4, 80) == [4, 2, 2]
    assert padding_cuts([1, 2, 3, 4], 1, 0) == [4]
