"""``Trainer``: the ``transformers`` Trainer, fed (B, G) grids by the collator and scored by a loss.

The Hugging Face model inside the CrossEncoder is what the base Trainer trains, saves, checkpoints and
wraps for DDP/DeepSpeed/FSDP; crossrank only overrides documented hooks: ``compute_loss`` (grid ->
scores -> loss), ``evaluate``/``evaluation_loop`` (adds the evaluators' metrics) and ``log``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import transformers
from datasets import Dataset

from crossrank.data.collator import RerankCollator
from crossrank.data.columns import validate_for_loss
from crossrank.losses.base import RerankLoss
from crossrank.model import CrossEncoder
from crossrank.training.args import TrainingArguments

logger = logging.getLogger(__name__)

Evaluator = Callable[..., dict[str, float]]


def default_loss(model: CrossEncoder) -> RerankLoss:
    """BinaryCrossEntropyLoss for one output label, CrossEntropyLoss for several."""
    from crossrank import losses

    if model.num_labels == 1:
        return losses.BinaryCrossEntropyLoss(model)
    return losses.CrossEntropyLoss(model)


def scores_to_grid(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Place the logits of the valid cells (row-major) into a (B, G[, C]) grid; padding cells hold 0."""
    if logits.shape[-1] == 1:
        return logits.new_zeros(mask.shape).masked_scatter(mask, logits.view(-1))
    grid = logits.new_zeros((*mask.shape, logits.shape[-1]))
    return grid.masked_scatter(mask.unsqueeze(-1).expand_as(grid), logits)


class Trainer(transformers.Trainer):
    """Train a ``CrossEncoder`` with a crossrank loss and optional evaluators.

    Args:
        model: the CrossEncoder to train (its Hugging Face model is what gets optimised and saved).
        args: ``crossrank.TrainingArguments``.
        train_dataset: rows whose non-label columns are the inputs (query first) — see ``data.columns``.
        eval_dataset: rows in the same format; gives ``eval_loss``.
        loss: a ``RerankLoss``; defaults to BinaryCrossEntropyLoss (one label) or CrossEntropyLoss.
        evaluator: an evaluator or a list of them, run at every evaluation; their metrics are logged as
            ``eval_{key}`` and can drive ``metric_for_best_model``.
        callbacks: ``transformers.TrainerCallback`` objects.
    """

    def __init__(
        self,
        model: CrossEncoder,
        args: TrainingArguments | None = None,
        train_dataset: Dataset | None = None,
        eval_dataset: Dataset | None = None,
        loss: RerankLoss | None = None,
        evaluator: Evaluator | Sequence[Evaluator] | None = None,
        callbacks: list[transformers.TrainerCallback] | None = None,
        optimizers: tuple[Any, Any] = (None, None),
    ) -> None:
        args = args or TrainingArguments(output_dir="output")
        self.cross_encoder = model
        self.loss = loss if loss is not None else default_loss(model)
        for name, data in (("train", train_dataset), ("eval", eval_dataset)):
            if data is not None:
                validate_for_loss(data, self.loss, model.num_labels, dataset_name=name)
        self.evaluators: list[Evaluator] = (
            [] if evaluator is None else list(evaluator) if isinstance(evaluator, Sequence) else [evaluator]
        )
        if eval_dataset is None and self.evaluators:
            eval_dataset = {}  # the evaluators alone provide the metrics
        super().__init__(
            model=model.model, args=args, data_collator=RerankCollator(model, self.loss),
            train_dataset=train_dataset, eval_dataset=eval_dataset, processing_class=model.tokenizer,
            callbacks=callbacks, optimizers=optimizers,
        )
        # Our losses are already means; let the base Trainer scale for gradient accumulation.
        self.model_accepts_loss_kwargs = False
        self._components: dict[str, list[float]] = {}

    # ------------------------------------------------------------------ loss
    def compute_loss(
        self, model: torch.nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mask = inputs["mask"]
        logits = model(**inputs["features"], return_dict=True).logits
        scores = scores_to_grid(logits, mask)
        value = self.loss(scores, inputs["labels"], mask)
        if isinstance(value, dict):
            for key, part in value.items():
                self._components.setdefault(key, []).append(float(part.detach()))
            value = torch.stack(list(value.values())).sum()
        return (value, {"scores": scores.detach()}) if return_outputs else value

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if self._components and "loss" in logs:
            for key, values in self._components.items():
                logs[f"loss_{key}"] = round(sum(values) / len(values), 6)
            self._components.clear()
        super().log(logs, start_time)

    # ------------------------------------------------------------------ evaluation
    def run_evaluators(self, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Run every evaluator on the current model; keys prefixed with ``{metric_key_prefix}_``."""
        metrics: dict[str, float] = {}
        epoch = self.state.epoch if self.state.epoch is not None else -1
        for evaluator in self.evaluators:
            result = evaluator(self.cross_encoder, output_path=self.args.output_dir, epoch=epoch,
                               steps=self.state.global_step)
            metrics.update({f"{metric_key_prefix}_{k}": float(v) for k, v in result.items()})
        self.cross_encoder.model.train(self.model.training)
        return metrics

    def evaluation_loop(self, dataloader: Any, description: str, prediction_loss_only: bool | None = None,
                        ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval") -> Any:
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys,
                                         metric_key_prefix)
        if metric_key_prefix == "eval" and not isinstance(self.eval_dataset, dict):
            output.metrics.update(self.run_evaluators(metric_key_prefix))
        return output

    def evaluate(self, eval_dataset: Dataset | dict[str, Dataset] | None = None,
                 ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval") -> dict[str, float]:
        target = eval_dataset if eval_dataset is not None else self.eval_dataset
        if not (isinstance(target, dict) and metric_key_prefix == "eval"):
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        # Several eval datasets (each logs its own loss), or evaluators alone: evaluators run once here.
        metrics = super().evaluate(eval_dataset, ignore_keys, metric_key_prefix) if target else {}
        start = time.time()
        extra = self.run_evaluators(metric_key_prefix)
        extra[f"{metric_key_prefix}_evaluator_runtime"] = round(time.time() - start, 4)
        self.log(extra)
        metrics.update(extra)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics
