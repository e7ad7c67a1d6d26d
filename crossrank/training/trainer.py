"""``Trainer``: the ``transformers`` Trainer, fed (B, G) grids by the collator and scored by a loss.

The Hugging Face model inside the CrossEncoder is what the base Trainer trains, saves, checkpoints and
wraps for DDP/DeepSpeed/FSDP; crossrank only overrides documented hooks:

- ``get_train_dataloader`` / ``get_eval_dataloader``: crossrank's batch samplers (``training.samplers``),
  one dataset per batch for multi-dataset training;
- ``create_optimizer``: parameter groups for ``learning_rate_mapping`` (``training.optim``);
- ``compute_loss``: grid -> scores -> the dataset's loss, scored in length-sorted pieces or, with
  ``mini_batch_size``, in cached chunks (``training.cached``: the chunks are replayed with gradients
  inside the base step's ``accelerator.backward``, so gradient accumulation and fp16 loss scaling apply);
- ``evaluate``/``evaluation_loop`` (adds the evaluators' metrics, main process only) and ``log``;
- ``save_model``: a public call saves through ``CrossEncoder.save_pretrained`` (activation in the config,
  and the model card: the trainer attaches itself to the model as ``trained_by``); checkpoints are the
  base Trainer's;
- ``train``: checks ``output_dir`` is writable, holds its lock (one run per folder, see
  ``storage.lock``) and resolves ``resume_from_checkpoint`` (the argument, else ``args.resume_from_checkpoint``;
  ``true`` means the last *complete* checkpoint, see ``training.resume``);
- ``_save_checkpoint`` (the one private hook): a full disk becomes one line, the partial checkpoint is
  removed, and saved files follow the umask.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
import transformers
from datasets import Dataset
from torch.utils.data import DataLoader
from transformers.trainer_utils import seed_worker

from crossrank.data.collator import RerankCollator
from crossrank.losses.base import RerankLoss
from crossrank.model import CrossEncoder
from crossrank.storage.atomic import apply_umask
from crossrank.storage.errors import DiskFullError, is_disk_full
from crossrank.storage.lock import output_lock
from crossrank.storage.preflight import check_writable
from crossrank.training.args import TrainingArguments
from crossrank.training.cached import ChunkedScores, bucketed_logits, chunk_size_for
from crossrank.training.heap import keep_freed_memory
from crossrank.training.multi import loss_for, validate_datasets
from crossrank.training.optim import parameter_groups
from crossrank.training.resume import last_complete_checkpoint, resolve_resume
from crossrank.training.samplers import MultiDataset, MultiDatasetBatchSampler, TaggedDataset, make_batch_sampler

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


def _plain_dict(data: Any) -> Any:
    """A ``DatasetDict`` (or any mapping) as a plain dict of named datasets; anything else unchanged."""
    return dict(data) if isinstance(data, Mapping) else data


def _share_from_main(metrics: dict[str, float], world_size: int) -> dict[str, float]:
    """The main process's evaluator metrics, on every process (the evaluators run on the main one only)."""
    if world_size <= 1 or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return metrics
    box: list[Any] = [metrics]
    torch.distributed.broadcast_object_list(box, src=0)
    return dict(box[0])


class Trainer(transformers.Trainer):
    """Train a ``CrossEncoder`` with a crossrank loss and optional evaluators.

    Args:
        model: the CrossEncoder to train (its Hugging Face model is what gets optimised and saved).
        args: ``crossrank.TrainingArguments``.
        train_dataset: rows whose non-label columns are the inputs (query first) — see ``data.columns``;
            or a dict / ``DatasetDict`` of named datasets (each batch then comes from one of them, in the
            order ``args.multi_dataset_batch_sampler`` says).
        eval_dataset: rows in the same format (gives ``eval_loss``), or a dict of them
            (``eval_{name}_loss``).
        loss: a ``RerankLoss``, or a dict of losses keyed by the train datasets' names; defaults to
            BinaryCrossEntropyLoss (one label) or CrossEntropyLoss.
        evaluator: an evaluator or a list of them, run at every evaluation (on the main process only;
            the metrics are shared with the other processes); their metrics are logged as
            ``eval_{key}`` and can drive ``metric_for_best_model``.
        callbacks: ``transformers.TrainerCallback`` objects.

    Memory-bounded scoring: with ``args.mini_batch_size`` (or a loss's own ``mini_batch_size``), the
    grid is scored in chunks without gradients, the loss's gradient w.r.t. the scores is taken, and each
    chunk is re-run with gradients (dropout replayed) — see ``crossrank.training.cached``.

    Length bucketing: without ``mini_batch_size``, a batch's pairs are sorted by length and scored in up
    to ``args.length_buckets`` sub-batches, each padded to its own longest pair (same loss and gradients,
    less padding); chunks of ``mini_batch_size`` are length-sorted the same way.
    """

    def __init__(
        self,
        model: CrossEncoder,
        args: TrainingArguments | None = None,
        train_dataset: Dataset | Mapping[str, Dataset] | None = None,
        eval_dataset: Dataset | Mapping[str, Dataset] | None = None,
        loss: RerankLoss | Mapping[str, RerankLoss] | None = None,
        evaluator: Evaluator | Sequence[Evaluator] | None = None,
        callbacks: list[transformers.TrainerCallback] | None = None,
        optimizers: tuple[Any, Any] = (None, None),
    ) -> None:
        args = args or TrainingArguments(output_dir="output")
        seed = args.data_seed if args.data_seed is not None else args.seed
        self.cross_encoder = model
        train_dataset, eval_dataset = _plain_dict(train_dataset), _plain_dict(eval_dataset)
        self.loss: RerankLoss | Mapping[str, RerankLoss] = loss if loss is not None else default_loss(model)
        validate_datasets(model, self.loss, train_dataset, eval_dataset)
        self.evaluators: list[Evaluator] = (
            [] if evaluator is None else list(evaluator) if isinstance(evaluator, Sequence) else [evaluator]
        )
        if eval_dataset is None and self.evaluators:
            eval_dataset = {}  # the evaluators alone provide the metrics
        super().__init__(
            model=model.model, args=args,
            data_collator=RerankCollator(model, self.loss, seed=seed),
            train_dataset=train_dataset, eval_dataset=eval_dataset, processing_class=model.tokenizer,
            callbacks=callbacks, optimizers=optimizers,
        )
        # Our losses are already means; let the base Trainer scale for gradient accumulation.
        self.model_accepts_loss_kwargs = False
        self._components: dict[str, list[float]] = {}
        self.final_metrics: dict[str, float] | None = None
        """Evaluator metrics of the final model for its model card (else the last logged ones are used)."""
        model.trained_by = self

    # ------------------------------------------------------------------ run
    def train(self, resume_from_checkpoint: str | bool | None = None, trial: Any = None,
              ignore_keys_for_eval: list[str] | None = None, **kwargs: Any) -> Any:
        """Train; ``resume_from_checkpoint`` (else ``args.resume_from_checkpoint``): a folder, or ``True``/"true"
        for the last complete checkpoint in ``output_dir`` (incomplete newer ones are logged and removed)."""
        value = resume_from_checkpoint if resume_from_checkpoint is not None else self.args.resume_from_checkpoint
        guard = contextlib.nullcontext()
        if self.args.should_save:
            check_writable(self.args.output_dir, what="output_dir")
            guard = output_lock(self.args.output_dir)
        if self.args.keep_freed_memory and (self.args.use_cpu or self.cross_encoder.device.type == "cpu"):
            keep_freed_memory()
        with guard:
            resume = resolve_resume(value, self.args.output_dir, remove_incomplete=self.args.should_save)
            return super().train(resume_from_checkpoint=resume, trial=trial,
                                 ignore_keys_for_eval=ignore_keys_for_eval, **kwargs)

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        folder = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
        try:
            super()._save_checkpoint(model, trial)
        except Exception as err:
            if not is_disk_full(err, folder):
                raise
            if self.args.should_save:
                shutil.rmtree(folder, ignore_errors=True)
            previous = last_complete_checkpoint(folder.parent, remove_incomplete=False)
            kept = f"{previous} is the last complete checkpoint" if previous else "no earlier checkpoint exists"
            raise DiskFullError(
                f"no space left on the device while writing the checkpoint {folder}; it was removed and {kept}. "
                "Fix: free disk space, then resume (--resume-from-checkpoint true, or resume_from_checkpoint: true)."
            ) from err
        if self.args.should_save and folder.is_dir():
            apply_umask(folder)

    # ------------------------------------------------------------------ data
    def get_train_dataloader(self) -> DataLoader:
        """Batches from ``args.batch_sampler`` (one sampler per dataset when there are several).

        The samplers are seeded with ``data_seed`` (else ``seed``) plus the epoch; ``accelerate`` then
        gives each DDP process every ``world_size``-th batch. Under DDP the last short batch of each
        dataset is dropped so that every process gets full batches.
        """
        if self.train_dataset is None:
            raise ValueError("Trainer: training requires a train_dataset.")
        data = self.train_dataset
        if not isinstance(data, Mapping) and not (hasattr(data, "column_names") and hasattr(data, "__len__")):
            return super().get_train_dataloader()  # iterable or plain torch datasets: the base loader
        named = data if isinstance(data, Mapping) else {"train": data}
        drop_last = self.args.dataloader_drop_last or self.args.world_size > 1
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        samplers = [make_batch_sampler(self.args.batch_sampler, d, self._train_batch_size, drop_last, seed)
                    for d in named.values()]
        if isinstance(data, Mapping):
            dataset: Any = MultiDataset(named)
            sampler: Any = MultiDatasetBatchSampler(samplers, dataset.offsets,
                                                    self.args.multi_dataset_batch_sampler, seed)
        else:
            dataset, sampler = data, samplers[0]
        params: dict[str, Any] = {
            "batch_sampler": sampler, "collate_fn": self.data_collator,
            "num_workers": self.args.dataloader_num_workers,
            "pin_memory": self.args.dataloader_pin_memory and torch.cuda.is_available(),
            "persistent_workers": self.args.dataloader_persistent_workers,
            "worker_init_fn": partial(seed_worker, num_workers=self.args.dataloader_num_workers,
                                      rank=self.args.process_index),
        }
        if self.args.dataloader_num_workers > 0 and self.args.dataloader_prefetch_factor is not None:
            params["prefetch_factor"] = self.args.dataloader_prefetch_factor
        return self.accelerator.prepare(DataLoader(dataset, **params))

    def get_eval_dataloader(self, eval_dataset: str | Dataset | None = None) -> DataLoader:
        if isinstance(eval_dataset, str) and isinstance(self.eval_dataset, Mapping):
            dataset = self.eval_dataset[eval_dataset]
            if isinstance(self.loss, Mapping):
                loss_for(self.loss, eval_dataset, "eval")
                return super().get_eval_dataloader(TaggedDataset(dataset, eval_dataset))
            return super().get_eval_dataloader(dataset)
        return super().get_eval_dataloader(eval_dataset)

    # ------------------------------------------------------------------ optimizer
    def create_optimizer(self, model: torch.nn.Module | None = None) -> torch.optim.Optimizer:
        """The base optimizer, with one parameter group per ``learning_rate_mapping`` rate."""
        mapping = getattr(self.args, "learning_rate_mapping", None)
        if not mapping or self.optimizer is not None:
            return super().create_optimizer(model) if model is not None else super().create_optimizer()
        opt_model = self.model if model is None else model
        groups = parameter_groups(opt_model, self.get_decay_parameter_names(opt_model), self.args.weight_decay,
                                  mapping, self.args.learning_rate)
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    # ------------------------------------------------------------------ loss
    def _score(self, model: torch.nn.Module, features: dict[str, torch.Tensor],
               chunk: int | None) -> torch.Tensor:
        trim = getattr(self.cross_encoder.tokenizer, "padding_side", "right") == "right"
        if chunk is None:
            buckets = getattr(self.args, "length_buckets", 1)
            if buckets > 1 and trim and not (self.is_deepspeed_enabled or self.is_fsdp_enabled):
                return bucketed_logits(model, features, buckets, trim)
            return model(**features, return_dict=True).logits
        scorer = ChunkedScores(model, features, chunk, trim)
        if not (torch.is_grad_enabled() and model.training):
            return scorer.score_without_grad()
        if self.is_deepspeed_enabled:
            raise ValueError(
                "mini_batch_size (memory-bounded scoring) needs the plain backward pass and does not work with "
                "DeepSpeed; found a DeepSpeed run. Fix: unset mini_batch_size or use DDP/FSDP."
            )
        return scorer.score()

    def compute_loss(
        self, model: torch.nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss_fn = loss_for(self.loss, inputs.get("dataset_name"))
        mask = inputs["mask"]
        chunk = chunk_size_for(loss_fn, getattr(self.args, "mini_batch_size", None))
        scores = scores_to_grid(self._score(model, inputs["features"], chunk), mask)
        value = loss_fn(scores, inputs["labels"], mask)
        if isinstance(value, dict):
            for key, part in value.items():
                self._components.setdefault(key, []).append(float(part.detach()))
            value = torch.stack(list(value.values())).sum()
        return (value, {"scores": scores.detach()}) if return_outputs else value

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Save the trained model; a public call writes a full crossrank folder with its model card.

        Checkpoints (``_internal_call``) and DeepSpeed/FSDP runs use the base Trainer's saving.
        """
        if _internal_call or self.is_deepspeed_enabled or self.is_fsdp_enabled:
            super().save_model(output_dir, _internal_call)
            return
        if self.args.should_save:
            self.cross_encoder.save_pretrained(output_dir or self.args.output_dir)

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
        if self.args.process_index == 0:
            epoch = self.state.epoch if self.state.epoch is not None else -1
            for evaluator in self.evaluators:
                result = evaluator(self.cross_encoder, output_path=self.args.output_dir, epoch=epoch,
                                   steps=self.state.global_step)
                metrics.update({f"{metric_key_prefix}_{k}": float(v) for k, v in result.items()})
            self.cross_encoder.model.train(self.model.training)
        return _share_from_main(metrics, self.args.world_size)

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
