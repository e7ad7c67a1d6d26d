"""Stage 7 of the run order, train: supervised training on the mined lists, best dev checkpoint kept,
first-stage fusion tuned on dev.

The training arguments and the keep-best schedule (evaluate about five times, keep and reload the best
checkpoint by dev NDCG@10) are the library's (:func:`crossrank.pipeline.schedule.keep_best_arguments`); the start model
(warm-started or not) is measured on dev first and kept when no trained checkpoint beats it. The fusion
weight is chosen on the whole dev split at the rerank depth (:meth:`RerankingEvaluator.tune_fusion`) and
stored with the model.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crossrank.fit.metrics import AT_K

HEAD_PATTERN = r"(^|\.)(pooler|classifier|score)\."


def training_dataset(lists: Sequence[Mapping[str, Any]], collection: Mapping[str, Any], loss: str) -> Any:
    """(query, [documents], [labels]) rows for listwise losses, (query, document, label) pairs for BCE."""
    from datasets import Dataset

    queries, corpus = collection["queries"], collection["corpus"]
    if loss == "bce":
        rows = [(queries[x["query_id"]], corpus[d], y) for x in lists for d, y in zip(x["documents"], x["labels"])]
        return Dataset.from_dict({"query": [r[0] for r in rows], "document": [r[1] for r in rows],
                                  "label": [r[2] for r in rows]})
    return Dataset.from_dict({"query": [queries[x["query_id"]] for x in lists],
                              "documents": [[corpus[d] for d in x["documents"]] for x in lists],
                              "labels": [list(x["labels"]) for x in lists]})


def make_loss(name: str, model: Any) -> Any:
    from crossrank import losses

    return {"bce": losses.BinaryCrossEntropyLoss, "listnet": losses.ListNetLoss,
            "lambda": losses.LambdaLoss}[name](model)


def training_args(plan: Mapping[str, Any], evaluator: Any, output_dir: Path, seed: int, fresh_head: bool) -> Any:
    """The library's TrainingArguments with its keep-best schedule, from the sizing stage's plan."""
    from crossrank.pipeline.schedule import keep_best_arguments
    from crossrank.training.args import TrainingArguments

    steps = int(plan["max_steps"])
    given: dict[str, Any] = {
        "output_dir": str(output_dir), "num_train_epochs": float(plan["epochs"]), "max_steps": steps,
        "per_device_train_batch_size": int(plan["rows_per_step"]), "learning_rate": float(plan["learning_rate"]),
        "warmup_steps": 0.1, "lr_scheduler_type": "linear", "seed": seed, "data_seed": seed,
        "logging_steps": max(1, steps // 20), "dataloader_pin_memory": False, "disable_tqdm": False,
        "keep_freed_memory": True,
        **keep_best_arguments(evaluator.primary_metric, steps, int(plan["evaluations"]),
                              greater_is_better=evaluator.greater_is_better),
    }
    if fresh_head:
        given["learning_rate_mapping"] = {HEAD_PATTERN: float(plan["head_learning_rate"])}
    return TrainingArguments(**given)


def history(trainer: Any, key: str) -> list[list[float]]:
    """[[step, dev metric], ...] logged during training."""
    return [[float(entry["step"]), float(entry[key])] for entry in trainer.state.log_history if key in entry]


def train_model(model: Any, collection: Mapping[str, Any], lists: Sequence[Mapping[str, Any]],
                plan: Mapping[str, Any], evaluator: Any, work: Path, seed: int, fresh_head: bool,
                deadline: float | None, start_metric: float | None = None) -> dict[str, Any]:
    """Train ``model`` in place (best dev checkpoint reloaded); returns the log and the keep-best record.

    ``start_metric`` is the start model's dev metric when already measured (it is measured here otherwise).
    """
    from crossrank.training.trainer import Trainer

    key = f"eval_{evaluator.primary_metric}"
    model.max_length = int(plan["max_length"])  # before the start model's evaluation: every checkpoint is compared
    start = evaluator(model)[evaluator.primary_metric] if start_metric is None else float(start_metric)
    dataset = training_dataset(lists, collection, plan["loss"])
    args = training_args(plan, evaluator, work / "checkpoints", seed, fresh_head)
    from crossrank.warm_start.budget import TimeBudget

    guard = TimeBudget(max(1.0, deadline - time.monotonic()) if deadline is not None else None)
    trainer = Trainer(model, args, train_dataset=dataset, loss=make_loss(plan["loss"], model), evaluator=evaluator,
                      callbacks=[guard])
    began = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - began
    curve = history(trainer, key)
    best = float(trainer.state.best_metric) if trainer.state.best_metric is not None else max(
        (v for _, v in curve), default=float("-inf"))
    return {"trainer": trainer, "start_metric": start, "best_metric": best, "curve": [[0.0, start], *curve],
            "curve_first_stage": evaluator.ranked_first_stage()[f"ndcg@{AT_K}"],
            "best_step": _best_step(trainer), "steps": int(trainer.state.global_step), "seconds": seconds,
            "stopped_by_deadline": guard.stopped_at, "keep_start": start > best}


def _best_step(trainer: Any) -> int | None:
    path = trainer.state.best_model_checkpoint
    return int(str(path).rsplit("-", 1)[-1]) if path else None


def tune_fusion(model: Any, evaluator: Any) -> dict[str, Any]:
    """Choose and store the first-stage fusion weight on the whole dev split; returns dev metrics and the curve."""
    fusion, curve = evaluator.tune_fusion(model, metric=f"ndcg@{AT_K}")
    model.fusion = fusion
    metrics = evaluator(model)
    return {"weight": fusion.weight, "normalize": fusion.normalize, "curve": {str(k): v for k, v in curve.items()},
            "dev": {k.removeprefix(f"{evaluator.name}_"): v for k, v in metrics.items()},
            "first_stage": evaluator.ranked_first_stage()}  # on the reranked / fused basis (base_* counts misses)
